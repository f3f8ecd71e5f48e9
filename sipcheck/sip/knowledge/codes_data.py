"""The words of the response-code knowledge base (see ``codes``), one entry per code.

Reason phrases are the IANA registry's (tests/data/iana holds the reference copy).
``rfc`` names the defining section; where a section number was not checked, only the
RFC is named. Entries for the codes a REGISTER is likely to meet go deeper.
"""

from __future__ import annotations

from typing import NamedTuple


class Entry(NamedTuple):
    code: int
    reason: str
    rfc: str
    summary: str
    meaning: str
    for_register: str
    next_steps: tuple[str, ...]
    legacy: bool = False


_NOT_FOR_REGISTER = "Not used with REGISTER; if a registrar sends it, read the reason phrase."

ENTRIES: tuple[Entry, ...] = (
    # ---- 1xx Provisional (RFC 3261 §21.1) ----
    Entry(
        100,
        "Trying",
        "RFC 3261 §21.1.1",
        summary="Next hop has the request and is still working on it",
        meaning=(
            "The next-hop server received the request and is working on it, for example "
            "consulting a database. It is hop by hop: a stateful proxy never forwards a 100, "
            "so it says nothing about the servers further along."
        ),
        for_register=(
            "The first server on the path has your REGISTER. Over UDP it slows the "
            "retransmissions down to every T2 (4 s), but it is not an answer: a final "
            "response must still arrive before Timer F (64*T1 = 32 s). RFC 4320 §4.1 lets a "
            "server send it to a REGISTER over UDP only once it has been busy for a while."
        ),
        next_steps=(
            "Wait for the final response; the 100 only proves the first hop is reachable.",
            "If no final response follows, the delay is behind the first hop: the registrar, "
            "a database or an authentication backend it is waiting for.",
            "Compare the time of the 100 with the time of the final answer in the ladder.",
        ),
    ),
    Entry(
        180,
        "Ringing",
        "RFC 3261 §21.1.2",
        summary="Callee is being alerted; never valid for a REGISTER",
        meaning=(
            "The user agent that received an INVITE is alerting its user: the phone rings. "
            "The caller may play a local ringback tone."
        ),
        for_register=(
            "A REGISTER never rings. RFC 4320 §4.1 forbids any provisional response other "
            "than 100 to a non-INVITE request, so a 180 here means a broken server or a "
            "request that was not handled as a REGISTER."
        ),
        next_steps=(
            "Check the request line and CSeq method of what was sent: it should be REGISTER.",
            "Wait for the final response; the 180 itself changes nothing.",
            "Capture the exchange and report the non-conforming 180 to the server's operator.",
        ),
    ),
    Entry(
        181,
        "Call Is Being Forwarded",
        "RFC 3261 §21.1.3",
        summary="Call is being forwarded to other destinations",
        meaning=(
            "A server may send it to say that the call is being forwarded to a different set "
            "of destinations."
        ),
        for_register=(
            "Not used with REGISTER; as a provisional other than 100 it breaks RFC 4320 §4.1."
        ),
        next_steps=("Ignore it and wait for the final response.",),
    ),
    Entry(
        182,
        "Queued",
        "RFC 3261 §21.1.4",
        summary="Callee unavailable; the call has been queued",
        meaning=(
            "The called party is temporarily unavailable, but the server queued the call "
            "instead of rejecting it; the reason phrase may give the queue position."
        ),
        for_register=(
            "Not used with REGISTER; as a provisional other than 100 it breaks RFC 4320 §4.1."
        ),
        next_steps=("Ignore it and wait for the final response.",),
    ),
    Entry(
        183,
        "Session Progress",
        "RFC 3261 §21.1.5",
        summary="Call progress information, often with early media",
        meaning=(
            "Conveys call progress that is not otherwise classified. Its body often carries "
            "SDP for early media, such as network announcements or ringback."
        ),
        for_register=(
            "Not used with REGISTER (RFC 4320 §4.1). A client treats any provisional code it "
            "does not know as 183 (RFC 3261 §8.1.3.2)."
        ),
        next_steps=("Ignore it and wait for the final response.",),
    ),
    Entry(
        199,
        "Early Dialog Terminated",
        "RFC 6228",
        summary="One early dialog of a forked call has ended",
        meaning=(
            "A forking proxy or a UAS tells the caller that one early dialog was terminated "
            "before the final response arrives."
        ),
        for_register="Not used with REGISTER; it only concerns early dialogs of an INVITE.",
        next_steps=("Ignore it and wait for the final response.",),
    ),
    # ---- 2xx Successful (RFC 3261 §21.2) ----
    Entry(
        200,
        "OK",
        "RFC 3261 §21.2.1",
        summary="Registered: bindings are listed in Contact with expires",
        meaning="The request succeeded.",
        for_register=(
            "The registrar accepted the REGISTER. Its Contact header lists every binding it now "
            "holds for the address-of-record in To, each with an expires parameter (RFC 3261 "
            "§10.3 step 8). Your own Contact should be among them: its expires is what you "
            "were granted, which may be less than you asked for. Other Contacts are other "
            "devices registered to the same AoR."
        ),
        next_steps=(
            "Check that your Contact is listed with an expires above 0; if it is missing, the "
            "binding was not stored (a NAT or SIP ALG may have rewritten your Contact).",
            "Refresh before the granted expires runs out (RFC 3261 §10.2.4); the registrar's "
            "value wins over the one you asked for.",
            "If your Contact shows a private address, calls may not reach you from outside: "
            "look at received/rport in Via, keep-alives or SIP Outbound (RFC 5626).",
            "Old Contacts from other devices or earlier runs stay until they expire; remove "
            "them with Expires: 0 if they get in the way.",
            "Note any Service-Route (RFC 3608) in the response: later requests should use it.",
        ),
    ),
    Entry(
        202,
        "Accepted",
        "RFC 3265; deprecated by RFC 6665",
        summary="Accepted but not yet done (deprecated); treat as 200",
        meaning=(
            "The request was accepted for processing, but processing is not complete. It came "
            "with event subscriptions and REFER; RFC 6665 deprecated it for SUBSCRIBE and "
            "NOTIFY and says a 202 must be handled exactly like a 200."
        ),
        for_register=(
            "RFC 3261 defines no 202 for REGISTER. Treat it as success, but do not assume the "
            "binding is in place yet: the registrar says it has not finished."
        ),
        next_steps=(
            "Query the bindings with a REGISTER without Contact (RFC 3261 §10.2.3) to see "
            "whether yours was stored.",
            "Otherwise treat it as 200: refresh before the expires it gives.",
        ),
    ),
    Entry(
        204,
        "No Notification",
        "RFC 5839",
        summary="Subscription OK; no NOTIFY will follow (state unchanged)",
        meaning=(
            "With conditional event notification, the SUBSCRIBE succeeded and the notifier "
            "will send no NOTIFY because the subscriber's copy of the state is current."
        ),
        for_register=(
            "Not defined for REGISTER. Treat it as success, but query the bindings to be sure."
        ),
        next_steps=("Query the bindings with a REGISTER without Contact (RFC 3261 §10.2.3).",),
    ),
    # ---- 3xx Redirection (RFC 3261 §21.3) ----
    Entry(
        300,
        "Multiple Choices",
        "RFC 3261 §21.3.1",
        summary="Several possible locations are listed in Contact",
        meaning=(
            "The address resolved to several locations, listed in Contact (or in the body); "
            "the client may pick one and send the request there."
        ),
        for_register=(
            "Rare for REGISTER: each Contact of the 300 is a server the registration could be "
            "sent to instead."
        ),
        next_steps=("Send the REGISTER to one of the Contact URIs, keeping your AoR in To.",),
    ),
    Entry(
        301,
        "Moved Permanently",
        "RFC 3261 §21.3.2",
        summary="Registrar moved for good: register at the Contact URI",
        meaning=(
            "The user can no longer be found at the Request-URI. The client should retry at "
            "the address given in Contact and update any stored copy of the old one."
        ),
        for_register=(
            "This server is not, or no longer, the registrar for your domain and names the "
            "one that is: send the REGISTER to the Contact URI of the 301, as Request-URI and "
            "next hop, with the same AoR in To and From. As the move is permanent, change the "
            "configured registrar instead of following the redirect every time."
        ),
        next_steps=(
            "Read the Contact header of the 301: that URI is where to register.",
            "Update the configured registrar to that address (RFC 3261 §8.1.3.4 on using "
            "the Contacts of a 3xx as new targets).",
            "Check that the new target belongs to a domain you trust before sending "
            "credentials to it.",
        ),
    ),
    Entry(
        302,
        "Moved Temporarily",
        "RFC 3261 §21.3.3",
        summary="Register at the Contact URI instead (temporary redirect)",
        meaning=(
            "The client should retry the request at the address(es) in Contact. An Expires "
            "header or expires parameter says how long the redirect may be cached."
        ),
        for_register=(
            "Some providers use it for load balancing or steering by region: send the "
            "REGISTER to the Contact URI of the 302, as Request-URI and next hop, keeping your "
            "AoR in To. Keep the configured registrar, since the redirect is temporary."
        ),
        next_steps=(
            "Send the REGISTER to the Contact URI of the 302; if there are several, try them "
            "in order of their q values (RFC 3261 §8.1.3.4).",
            "Follow the redirect only for as long as its expires says, then go back to the "
            "configured registrar.",
            "If it points to a foreign domain, check it before sending credentials there.",
        ),
    ),
    Entry(
        305,
        "Use Proxy",
        "RFC 3261 §21.3.4",
        summary="Send this request again via the proxy named in Contact",
        meaning=(
            "The resource must be reached through the proxy whose URI is in Contact; the "
            "client should repeat this one request via that proxy. Only a UAS may send 305."
        ),
        for_register=(
            "The registrar wants the REGISTER to come through a specific proxy, such as its "
            "SBC or edge proxy: use that URI as the outbound proxy. Following a 305 sends "
            "your request, and later your credentials, through a host the server chose, so "
            "many clients ignore it unless they know the proxy."
        ),
        next_steps=(
            "Read the Contact of the 305 and, if you trust it, configure it as outbound proxy.",
            "Check whether the provider documents an outbound proxy you should be using.",
            "If the named proxy is unexpected, do not follow it; report it to the operator.",
        ),
    ),
    Entry(
        380,
        "Alternative Service",
        "RFC 3261 §21.3.5",
        summary="Request failed; alternatives are described in the body",
        meaning=(
            "The request was not successful, but alternative services are possible; the "
            "response body describes them. IMS networks use it, for example, to steer a "
            "device towards an emergency call or registration."
        ),
        for_register=(
            "Unusual for REGISTER. The body and any Warning header say what the server wants "
            "instead, such as a different kind of registration for this device."
        ),
        next_steps=(
            "Read the response body and any Warning header: the alternative is described there.",
            "Ask the provider which service or registration type this account should use.",
        ),
    ),
    # ---- 4xx Request Failure (RFC 3261 §21.4) ----
    Entry(
        400,
        "Bad Request",
        "RFC 3261 §21.4.1",
        summary="Request malformed; the reason phrase should say what is wrong",
        meaning=(
            "The request could not be understood because of malformed syntax. The reason "
            'phrase should name the problem, for example "Missing Call-ID header field".'
        ),
        for_register=(
            "The registrar could not parse or accept the form of the REGISTER. Common causes: "
            "a malformed Contact or To URI; Contact: * with an Expires other than 0 (RFC 3261 "
            "§10.3 step 6); a broken Authorization header; a Content-Length that does not "
            "match the body; or a router's SIP ALG that rewrote the message badly."
        ),
        next_steps=(
            "Read the reason phrase and any Warning header: they usually name the broken header.",
            "Compare the REGISTER that was sent with what the server received (capture on "
            "both sides if you can); a SIP ALG in a router can corrupt it.",
            "Check the Contact, To and From URIs, and that Content-Length matches the body.",
            "If you sent Contact: *, send it alone and with Expires: 0.",
        ),
    ),
    Entry(
        401,
        "Unauthorized",
        "RFC 3261 §21.4.2",
        summary="Registrar wants digest credentials: resend with Authorization",
        meaning=(
            "The request needs user authentication. The response carries a WWW-Authenticate "
            "challenge, and the client repeats the request with an Authorization header that "
            "answers it. Registrars and user agents send 401; proxies send 407."
        ),
        for_register=(
            "A first 401 is normal: the registrar challenges the REGISTER (RFC 3261 §10.3 "
            "step 3, §22.2) and the client sends it again with digest credentials in "
            "Authorization, the same Call-ID and CSeq plus one. A 401 to a REGISTER that "
            "already carried credentials means they were rejected: wrong auth username or "
            "password, another realm, or a digest over the wrong values. If the new challenge "
            "says stale=true, only the nonce expired and the credentials were fine."
        ),
        next_steps=(
            "If the REGISTER had no credentials yet, this is the normal challenge: answer it.",
            "Check the auth username and password; the auth username may differ from the "
            "user part of your AoR.",
            "Check that you answered with the realm of the WWW-Authenticate challenge.",
            "If the challenge has stale=true, retry with the new nonce; the password is fine.",
            "Check the algorithm (MD5, or SHA-256 per RFC 8760) and qop the server offered, "
            "and that the digest uri equals the Request-URI exactly.",
        ),
    ),
    Entry(
        402,
        "Payment Required",
        "RFC 3261 §21.4.3",
        summary="Reserved; some providers use it for an unpaid account",
        meaning="Reserved for future use by RFC 3261; it has no defined meaning.",
        for_register=(
            "Some providers send it when the account is out of credit or has not been paid."
        ),
        next_steps=("Check the account's balance and billing status with the provider.",),
    ),
    Entry(
        403,
        "Forbidden",
        "RFC 3261 §21.4.4",
        summary="Refused; credentials will not help (account, ACL or policy)",
        meaning=(
            "The server understood the request but refuses to fulfil it. Authorization will "
            "not help, and the request should not be repeated unchanged."
        ),
        for_register=(
            "After credentials, it means the server knows who you are but will not let you "
            "register: the account is disabled, your IP is not on its access list, or this "
            "auth user may not register this AoR (RFC 3261 §10.3 step 4). Some servers also "
            "answer a wrong password with 403 instead of a new 401. Before any challenge, it "
            "is policy: your IP, country, User-Agent or domain is not allowed to register."
        ),
        next_steps=(
            "Note whether the REGISTER that got the 403 carried credentials; that decides "
            "which case applies.",
            "Check that the account is active and the auth username belongs to the AoR in To.",
            "Check the password too: some servers answer a wrong one with 403.",
            "Ask the provider whether your public IP must be allow-listed, or was banned "
            "after failed attempts.",
            "Read the reason phrase and Warning header; many servers put the real cause there.",
        ),
    ),
    Entry(
        404,
        "Not Found",
        "RFC 3261 §21.4.5",
        summary="AoR or domain unknown to this registrar",
        meaning=(
            "The server has definitive information that the user does not exist at the domain "
            "of the Request-URI. It is also sent when the server does not handle that domain."
        ),
        for_register=(
            "The registrar does not know the address-of-record in To (RFC 3261 §10.3 step 5) "
            "or does not serve the domain in the Request-URI. Typical causes: a typo in the "
            "user part, an account not provisioned yet, or registering to the server's host "
            "name or IP address when the account lives under a SIP domain name (or the "
            "other way round)."
        ),
        next_steps=(
            "Check the user part of the To URI against the account details, character by "
            "character.",
            "Check the domain: Request-URI and To should use the SIP domain the provider gave "
            "you, which may differ from the host you send to.",
            "Ask the provider whether the account is provisioned on this server.",
            "With an outbound proxy, make sure the Request-URI names the registrar's domain, "
            "not the proxy.",
        ),
    ),
    Entry(
        405,
        "Method Not Allowed",
        "RFC 3261 §21.4.6",
        summary="REGISTER not allowed here; see the Allow header",
        meaning=(
            "The method is understood but not allowed for the address in the Request-URI. "
            "The response must carry an Allow header listing the methods that are."
        ),
        for_register=(
            "This server takes no registrations for this Request-URI: it is not a registrar, "
            "or not for this domain (a phone, a gateway, or a trunk authenticated by IP "
            "address). Its Allow header shows what it accepts."
        ),
        next_steps=(
            "Read the Allow header of the 405: without REGISTER, this host registers nobody.",
            "Check that you send to the registrar, not to a media gateway or a peer.",
            "Ask the provider whether the account uses registration or IP authentication.",
        ),
    ),
    Entry(
        406,
        "Not Acceptable",
        "RFC 3261 §21.4.7",
        summary="Cannot answer in a form the Accept header allows",
        meaning=(
            "The resource can only produce responses whose content is not acceptable "
            "according to the Accept header of the request."
        ),
        for_register="Rare for REGISTER; an Accept header you sent is too narrow.",
        next_steps=("Remove the Accept header from the REGISTER, or widen it.",),
    ),
    Entry(
        407,
        "Proxy Authentication Required",
        "RFC 3261 §21.4.8",
        summary="A proxy on the path wants credentials in Proxy-Authorization",
        meaning=(
            "Like 401, but the client must first authenticate with a proxy. The response "
            "carries a Proxy-Authenticate challenge; the client repeats the request with a "
            "Proxy-Authorization header that answers it (RFC 3261 §22.3)."
        ),
        for_register=(
            "A proxy between you and the registrar (outbound proxy, SBC or edge proxy) wants "
            "credentials before it forwards the REGISTER. Some all-in-one servers also send "
            "407 where a 401 would be right. Answer it like a 401 but in Proxy-Authorization; "
            "if the registrar then sends a 401, the next REGISTER carries both headers."
        ),
        next_steps=(
            "Send the REGISTER again with Proxy-Authorization (not Authorization) answering "
            "the Proxy-Authenticate challenge.",
            "Check which credentials the proxy wants: usually the same account, sometimes "
            "separate trunk credentials.",
            "Check the realm of Proxy-Authenticate; it names the proxy, which may differ "
            "from the registrar's realm.",
            "If a 407 follows your answer, the proxy rejected it: check username, password, "
            "realm and stale=true as for a 401.",
        ),
    ),
    Entry(
        408,
        "Request Timeout",
        "RFC 3261 §21.4.9",
        summary="No final answer in time: upstream timeout, or local Timer F",
        meaning=(
            "The server could not produce a response in time, for example because it could "
            "not find the user soon enough. A client also reports 408 on its own when its "
            "transaction times out with no final response (RFC 3261 §8.1.3.1)."
        ),
        for_register=(
            "Sent by a server, it means a proxy or registrar front end waited too long for "
            "what is behind it: the real registrar, a database or an authentication backend. "
            "RFC 4320 §4.2 forbids stateful servers to send 408 to a REGISTER, so it also "
            "marks an old or non-conforming server. If nothing at all came back, the timeout "
            "is local: no final response within Timer F (64*T1 = 32 s)."
        ),
        next_steps=(
            "Check in the ladder whether the 408 was received or was a local timeout.",
            "Local timeout: check address, port and transport, firewalls, and that UDP "
            "replies can come back through your NAT.",
            "Received: the server that sent it (top Via, Server header) could not reach what "
            "is behind it; retry later or ask its operator.",
            "Try another transport (TCP or TLS), or the next server from DNS (RFC 3263).",
        ),
    ),
    Entry(
        410,
        "Gone",
        "RFC 3261 §21.4.10",
        summary="User was here once and is gone, no forwarding address",
        meaning=(
            "The resource is no longer available at the server and no forwarding address is "
            "known; the condition is expected to be permanent."
        ),
        for_register="The account or AoR has been removed from this registrar.",
        next_steps=("Ask the provider whether the account was closed or moved to another server.",),
    ),
    Entry(
        412,
        "Conditional Request Failed",
        "RFC 3903",
        summary="PUBLISH names an entity-tag the server does not hold",
        meaning=(
            "The condition of a PUBLISH (its SIP-If-Match entity-tag) matched no publication "
            "the server holds; the client should publish afresh."
        ),
        for_register=_NOT_FOR_REGISTER,
        next_steps=("For a PUBLISH, send it again without SIP-If-Match.",),
    ),
    Entry(
        413,
        "Request Entity Too Large",
        "RFC 3261 §21.4.11",
        summary="Request body larger than the server will take",
        meaning=(
            "The server refuses the request because its body is larger than it will or can "
            "process; Retry-After may say the condition is temporary."
        ),
        for_register="A REGISTER normally has no body; check that none was added.",
        next_steps=("Send the REGISTER without a body (Content-Length: 0).",),
    ),
    Entry(
        414,
        "Request-URI Too Long",
        "RFC 3261 §21.4.12",
        summary="Request-URI longer than the server will interpret",
        meaning=(
            "The server refuses the request because the Request-URI is longer than it is "
            "willing to interpret."
        ),
        for_register=(
            "A REGISTER Request-URI should be just the registrar's domain, such as "
            "sip:example.com (RFC 3261 §10.2)."
        ),
        next_steps=("Shorten the Request-URI to sip:<domain>, without user part or parameters.",),
    ),
    Entry(
        415,
        "Unsupported Media Type",
        "RFC 3261 §21.4.13",
        summary="Body type or encoding not supported; see Accept",
        meaning=(
            "The server does not support the format of the request body. The response lists "
            "acceptable formats in Accept, Accept-Encoding or Accept-Language."
        ),
        for_register="A REGISTER normally has no body; remove it and any Content-Encoding.",
        next_steps=("Send the REGISTER without a body.",),
    ),
    Entry(
        416,
        "Unsupported URI Scheme",
        "RFC 3261 §21.4.14",
        summary="Request-URI scheme not supported (e.g. sips: or tel:)",
        meaning="The server cannot process the URI scheme of the Request-URI.",
        for_register=(
            "A REGISTER Request-URI must be a sip: or sips: URI, and some registrars take "
            "only sip:."
        ),
        next_steps=("Use a sip: Request-URI, or sips: only where the server offers TLS.",),
    ),
    Entry(
        417,
        "Unknown Resource-Priority",
        "RFC 4412",
        summary="Resource-Priority namespace or value not understood",
        meaning=(
            "The request had a Resource-Priority header (priority schemes for emergency or "
            "government use) with a namespace or value the server does not understand."
        ),
        for_register="Remove the Resource-Priority header from the REGISTER.",
        next_steps=(
            "Drop Resource-Priority, or use a namespace listed in Accept-Resource-Priority.",
        ),
    ),
    Entry(
        420,
        "Bad Extension",
        "RFC 3261 §21.4.15",
        summary="Server lacks an extension you required; see Unsupported",
        meaning=(
            "The server did not understand an extension named in a Require or Proxy-Require "
            "header. It must list the option tags it does not support in Unsupported."
        ),
        for_register=(
            "Your REGISTER demanded an option (in Require or Proxy-Require) that the "
            "registrar or a proxy lacks, such as path, outbound, gruu or sec-agree (RFC 3261 "
            "§10.3 step 2, §8.2.2.3). Registration works without most of them: offer them in "
            "Supported, not Require, unless the service needs them."
        ),
        next_steps=(
            "Read the Unsupported header of the 420: it lists the option tags that failed.",
            "Remove those tags from Require and Proxy-Require, or move them to Supported.",
            "If the service needs that extension (sec-agree in IMS, for example), you are "
            "talking to the wrong server or it is misconfigured.",
        ),
    ),
    Entry(
        421,
        "Extension Required",
        "RFC 3261 §21.4.16",
        summary="Server needs an extension you did not offer; see Require",
        meaning=(
            "The server needs an extension to process the request that the client did not "
            "list in Supported; the Require header of the response names it."
        ),
        for_register=(
            "The registrar or a proxy requires an extension for registration, such as "
            "outbound (RFC 5626) or gruu."
        ),
        next_steps=(
            "Read the Require header of the 421; enable that extension and list it in "
            "Supported, if the client has it.",
            "Ask the provider which client features the service needs.",
        ),
    ),
    Entry(
        422,
        "Session Interval Too Small",
        "RFC 4028",
        summary="Session-Expires below the server's Min-SE (session timers)",
        meaning=(
            "With session timers, the Session-Expires of the request is below the minimum the "
            "server accepts; the response carries a Min-SE header."
        ),
        for_register=(
            "Not used with REGISTER: session timers apply to INVITE and UPDATE. For a too "
            "short registration expiry the answer is 423."
        ),
        next_steps=("Retry with Session-Expires at or above the Min-SE value.",),
    ),
    Entry(
        423,
        "Interval Too Brief",
        "RFC 3261 §21.4.17",
        summary="Expires too short: raise it to at least Min-Expires",
        meaning=(
            "The server rejects the request because the expiration time it asks for is too "
            "short. The response carries a Min-Expires header with the shortest interval the "
            "server accepts."
        ),
        for_register=(
            "The registrar has a minimum registration interval and the REGISTER asked for "
            "less (RFC 3261 §10.3 step 7). Retry with the expiry raised to at least the "
            "Min-Expires value, in the Expires header and in every Contact's expires parameter "
            "(§10.2.8). Clients that register every 30 or 60 s to keep a NAT binding open "
            "often meet this; keep-alives do that job better."
        ),
        next_steps=(
            "Read the Min-Expires header of the 423.",
            "Send the REGISTER again with Expires, and each Contact's expires parameter, at "
            "or above that value.",
            "If the short interval was meant to keep a NAT pinhole open, use a longer expiry "
            "and send keep-alives (CRLF or OPTIONS) instead.",
        ),
    ),
    Entry(
        424,
        "Bad Location Information",
        "RFC 6442",
        summary="Location information in the request was unusable",
        meaning=(
            "The location conveyed with the request (Geolocation header and body) was "
            "malformed or not good enough; a Geolocation-Error header says why."
        ),
        for_register=(
            "Only seen where location is sent with a REGISTER, as in some emergency setups."
        ),
        next_steps=("Fix or drop the Geolocation header and its body.",),
    ),
    Entry(
        425,
        "Bad Alert Message",
        "RFC 8876",
        summary="Non-interactive emergency alert was malformed",
        meaning=(
            "For non-interactive emergency calls (alerts sent by devices or sensors): the "
            "alert message was malformed or unusable; an AlertMsg-Error header gives details."
        ),
        for_register=_NOT_FOR_REGISTER,
        next_steps=("Check the alert body against RFC 8876 and the AlertMsg-Error header.",),
    ),
    Entry(
        428,
        "Use Identity Header",
        "RFC 8224",
        summary="Server requires an Identity header (STIR)",
        meaning=(
            "The server's policy requires a valid Identity header (STIR caller "
            "authentication) and the request had none."
        ),
        for_register="Not used with REGISTER: identity signing is for calls.",
        next_steps=("Have the originating service sign the call with an Identity header.",),
    ),
    Entry(
        429,
        "Provide Referrer Identity",
        "RFC 3892",
        summary="REFER target wants a Referred-By token; not rate limiting",
        meaning=(
            "Defined for REFER: the target of the referral wants a valid Referred-By token "
            'from the referrer. In SIP it does not mean "Too Many Requests" as in HTTP.'
        ),
        for_register=(
            "A registrar has no use for 429. If a REGISTER gets one, look at the reason "
            'phrase: a server that says something like "Too Many Requests" is borrowing '
            "the HTTP meaning, which SIP does not define, and is rate-limiting you."
        ),
        next_steps=(
            "Read the reason phrase: if it speaks of too many requests, slow down and honour "
            "any Retry-After.",
            "Check that the client is not re-registering in a tight loop, for example after "
            "repeated 401s.",
            "If it really asks for Referred-By, the request was a REFER: check the method sent.",
        ),
    ),
    Entry(
        430,
        "Flow Failed",
        "RFC 5626",
        summary="SIP Outbound flow to the user agent has failed",
        meaning=(
            "With SIP Outbound, an edge proxy says the flow (connection) it would use towards "
            "the user agent has failed, though other flows may still work."
        ),
        for_register=(
            "The registration behind that flow can no longer be reached; the user agent "
            "should register again to create a new flow."
        ),
        next_steps=("Register again over a new connection and check its keep-alives.",),
    ),
    Entry(
        433,
        "Anonymity Disallowed",
        "RFC 5079",
        summary="Server rejects anonymous requests",
        meaning="The server refuses the request because it was anonymous.",
        for_register="Do not send a REGISTER with an anonymous From or a Privacy header.",
        next_steps=("Use your real identity in From and drop any Privacy header.",),
    ),
    Entry(
        436,
        "Bad Identity Info",
        "RFC 8224",
        summary="Identity header's info URI could not be used (STIR)",
        meaning=(
            "The URI in the info parameter of the Identity header could not be fetched or used."
        ),
        for_register=_NOT_FOR_REGISTER,
        next_steps=("Check the certificate URI the signing service puts in Identity.",),
    ),
    Entry(
        437,
        "Unsupported Credential",
        "RFC 8224",
        summary="Credential behind the Identity signature not accepted",
        meaning=(
            "The verifier does not support or trust the credential (certificate) used to sign "
            "the Identity header."
        ),
        for_register=_NOT_FOR_REGISTER,
        next_steps=("Check the signing certificate with the signing service.",),
    ),
    Entry(
        438,
        "Invalid Identity Header",
        "RFC 8224",
        summary="Identity signature did not verify",
        meaning="The signature in the Identity header did not validate for this request.",
        for_register=_NOT_FOR_REGISTER,
        next_steps=("Check that no hop changed the signed headers after signing.",),
    ),
    Entry(
        439,
        "First Hop Lacks Outbound Support",
        "RFC 5626",
        summary="Registrar does SIP Outbound but the first hop does not",
        meaning=(
            "With SIP Outbound, the registrar supports it but the first-hop proxy did not "
            "show support for it, so the flow cannot be used."
        ),
        for_register=(
            "The REGISTER asked for Outbound (reg-id and +sip.instance on the Contact). "
            "Register without Outbound, or through an edge proxy that supports it."
        ),
        next_steps=(
            "Drop reg-id from the Contact, or register through the provider's Outbound-capable "
            "edge proxy.",
        ),
    ),
    Entry(
        440,
        "Max-Breadth Exceeded",
        "RFC 5393",
        summary="Parallel forking limit (Max-Breadth) exhausted",
        meaning=(
            "A proxy could not fork the request because the Max-Breadth allowance for "
            "parallel branches was used up."
        ),
        for_register="Not relevant to REGISTER, which is not forked.",
        next_steps=("Raise Max-Breadth, or reduce forking on the path.",),
    ),
    Entry(
        469,
        "Bad Info Package",
        "RFC 6086",
        summary="INFO carried a package the receiver did not accept",
        meaning=(
            "An INFO request named an Info-Package that the receiver has not said it supports."
        ),
        for_register=_NOT_FOR_REGISTER,
        next_steps=("Only send INFO packages the peer listed in Recv-Info.",),
    ),
    Entry(
        470,
        "Consent Needed",
        "RFC 5360",
        summary="Relay needs the recipient's consent first",
        meaning=(
            "A relay, such as a URI-list server, needs the recipient's permission before it "
            "will forward the request."
        ),
        for_register=_NOT_FOR_REGISTER,
        next_steps=("Obtain the recipient's permission as the response describes.",),
    ),
    Entry(
        480,
        "Temporarily Unavailable",
        "RFC 3261 §21.4.18",
        summary="Server reached, but target unavailable now; try later",
        meaning=(
            "The callee's end system was contacted but the callee is unavailable for now "
            "(not logged in, do-not-disturb). A proxy may also send it when it knows the user "
            "but has no current location for them. Retry-After may say when to try again."
        ),
        for_register=(
            "The server handled the REGISTER like a request for a user and found nobody, or "
            "its registration backend is unavailable for now. A classic cause is a "
            "Request-URI with a user part (sip:alice@example.com): RFC 3261 §10.2 forbids it, "
            "and some proxies then route the REGISTER like a call. Some servers also send 480 "
            "while an account is being set up or is suspended."
        ),
        next_steps=(
            "Make the Request-URI just the domain (sip:example.com), with no user part.",
            "Retry after the Retry-After interval, if one is given.",
            "Read the reason phrase and Warning header for the server's own explanation.",
            "Ask the provider whether the registration service or the account is disabled.",
        ),
    ),
    Entry(
        481,
        "Call/Transaction Does Not Exist",
        "RFC 3261 §21.4.19",
        summary="No dialog or transaction matches this request",
        meaning=(
            "The server received a request, such as BYE or CANCEL, that matches no existing "
            "dialog or transaction."
        ),
        for_register=(
            "A REGISTER is sent outside any dialog, so its To header must have no tag "
            "(RFC 3261 §8.1.1.2); a tag there can earn a 481."
        ),
        next_steps=("Check that the To header of the REGISTER has no tag parameter.",),
    ),
    Entry(
        482,
        "Loop Detected",
        "RFC 3261 §21.4.20",
        summary="Request came back to a proxy it already passed (routing loop)",
        meaning=(
            "A server detected a loop: the request arrived again, unchanged, at a proxy it "
            "had already passed through (RFC 3261 §16.3 step 4)."
        ),
        for_register=(
            "The REGISTER goes round in circles between proxies, or through one proxy twice. "
            "Typical causes: the proxy does not see the Request-URI domain as its own and "
            "forwards the REGISTER to that domain, which resolves back to itself; or an "
            "outbound proxy and the registrar route to each other. The Via headers of the 482 "
            "show the path."
        ),
        next_steps=(
            "Read the Via headers of the 482 to see which hops the REGISTER passed.",
            "Check that the Request-URI domain is one the registrar serves (a local domain "
            "or alias in its configuration).",
            "Check that DNS (NAPTR, SRV, A) for that domain points at the registrar, not back "
            "at the proxy.",
            "Remove an outbound proxy setting that points at the registrar itself and retry.",
        ),
    ),
    Entry(
        483,
        "Too Many Hops",
        "RFC 3261 §21.4.21",
        summary="Max-Forwards reached 0: too many proxies, or a loop",
        meaning=(
            "The request reached a server with Max-Forwards at 0: it passed more hops than "
            "allowed (RFC 3261 §16.3 step 3)."
        ),
        for_register=(
            "Either the REGISTER left the client with a very low Max-Forwards (it should be "
            "70, RFC 3261 §8.1.1.6), or it looped between proxies until the count ran out "
            "without loop detection (482) catching it."
        ),
        next_steps=(
            "Check the Max-Forwards of the REGISTER that was sent; use 70.",
            "Read the Via headers of the 483: a host that appears twice means a loop.",
            "Check routing and DNS for the registrar's domain, as for 482.",
        ),
    ),
    Entry(
        484,
        "Address Incomplete",
        "RFC 3261 §21.4.22",
        summary="Request-URI incomplete (for example too few digits)",
        meaning=(
            "The Request-URI was incomplete, typically during overlap dialling when more "
            "digits are needed."
        ),
        for_register=(
            "A REGISTER Request-URI is only a domain; a 484 means the server took the "
            "request for a call."
        ),
        next_steps=("Check that the Request-URI is sip:<domain> and the method REGISTER.",),
    ),
    Entry(
        485,
        "Ambiguous",
        "RFC 3261 §21.4.23",
        summary="Request-URI matches several users",
        meaning=(
            "The Request-URI was ambiguous; the response may list candidate addresses in Contact."
        ),
        for_register="Use the full AoR the provider gave you in To.",
        next_steps=("Check the To URI against the account details.",),
    ),
    Entry(
        486,
        "Busy Here",
        "RFC 3261 §21.4.24",
        summary="Callee's end system is busy",
        meaning=(
            "The callee's end system was contacted but cannot or will not take another call "
            "there; Retry-After may suggest a better time."
        ),
        for_register=_NOT_FOR_REGISTER,
        next_steps=("Read the reason phrase and Warning header for what the server meant.",),
    ),
    Entry(
        487,
        "Request Terminated",
        "RFC 3261 §21.4.25",
        summary="Request cancelled by CANCEL or BYE",
        meaning="The request was terminated by a BYE or CANCEL request.",
        for_register="A 487 to a REGISTER means something sent a CANCEL for it.",
        next_steps=("Check what sent a CANCEL for the REGISTER.",),
    ),
    Entry(
        488,
        "Not Acceptable Here",
        "RFC 3261 §21.4.26",
        summary="Something in the request (usually SDP) is not acceptable here",
        meaning=(
            "Like 606 but only for this resource: some part of the session description "
            "(media, codecs, bandwidth, addressing) is not acceptable here, and the request "
            "may succeed elsewhere. A Warning header should say why."
        ),
        for_register=(
            "A REGISTER carries no session description, so a 488 comes from a policy element "
            "(often an SBC) that rejects something else: a transport it does not allow, the "
            "form of your Contact address, or a body that should not be there."
        ),
        next_steps=(
            "Read the Warning header; it should name the rejected part.",
            "Check that the REGISTER has no body, and try another transport.",
            "Check your Contact address: some SBCs refuse private or unreachable addresses.",
        ),
    ),
    Entry(
        489,
        "Bad Event",
        "RFC 6665 (first in RFC 3265)",
        summary="Event package of a SUBSCRIBE/PUBLISH not supported",
        meaning=(
            "The server does not understand the event package named in the Event header of "
            "a SUBSCRIBE or PUBLISH."
        ),
        for_register=(
            "Registration uses no events, so a REGISTER should never get 489. If one "
            "appears, the request was handled as a subscription, or it answers a separate "
            "SUBSCRIBE to the reg event package (RFC 3680) that the server lacks; the "
            "registration itself is not affected then."
        ),
        next_steps=(
            "Check the CSeq method of the 489: for SUBSCRIBE it concerns the event package, "
            "not the registration.",
            "If you subscribe to reg events (RFC 3680) and the server lacks them, turn that "
            "subscription off.",
            "If the CSeq says REGISTER, the server does not conform; capture and report it.",
        ),
    ),
    Entry(
        491,
        "Request Pending",
        "RFC 3261 §21.4.27",
        summary="A request of the same dialog is still pending (glare)",
        meaning=(
            "The server had a pending request within the same dialog, for example two "
            "re-INVITEs that crossed."
        ),
        for_register=_NOT_FOR_REGISTER,
        next_steps=("Wait a moment and retry.",),
    ),
    Entry(
        493,
        "Undecipherable",
        "RFC 3261 §21.4.28",
        summary="Could not decrypt the S/MIME body",
        meaning=(
            "The request had an encrypted S/MIME body that the server has no key for or "
            "cannot decrypt."
        ),
        for_register="Remove any S/MIME body from the REGISTER.",
        next_steps=("Send the REGISTER without an encrypted body.",),
    ),
    Entry(
        494,
        "Security Agreement Required",
        "RFC 3329",
        summary="First hop wants a security agreement (sec-agree, RFC 3329)",
        meaning=(
            "The server requires a security mechanism agreement before it will process the "
            "request. Its Security-Server header lists the mechanisms it offers, such as "
            "tls, digest, ipsec-ike or ipsec-3gpp."
        ),
        for_register=(
            "The first hop, typically an IMS P-CSCF, will not take the REGISTER until the "
            "client negotiates security with it: the client lists its mechanisms in "
            "Security-Client with Require and Proxy-Require: sec-agree, then echoes the "
            "server's list in Security-Verify on the next request. Clients without "
            "sec-agree cannot register there."
        ),
        next_steps=(
            "Read the Security-Server header of the 494 for the mechanisms on offer.",
            "Use a client that supports RFC 3329 (for IMS: IMS AKA with IPsec), or an "
            "access point of the provider meant for ordinary SIP clients.",
            "If Security-Client was sent, check that it shares a mechanism with "
            "Security-Server and that Security-Verify repeats the server's list exactly.",
        ),
    ),
    # ---- 5xx Server Failure (RFC 3261 §21.5) ----
    Entry(
        500,
        "Server Internal Error",
        "RFC 3261 §21.5.1",
        summary="Registrar hit an unexpected error; may include Retry-After",
        meaning=(
            "The server met an unexpected condition that kept it from fulfilling the "
            "request. A Retry-After header may say when it expects to recover."
        ),
        for_register=(
            "Usually a registrar bug or a failed backend (database, directory, "
            "authentication service). One client-side cause: a REGISTER whose CSeq is not "
            "higher than the last one on the same Call-ID. RFC 3261 §10.3 step 7 says such a "
            "request fails without naming a code, and some registrars answer 500."
        ),
        next_steps=(
            "Retry after the Retry-After interval, if given; otherwise wait and retry once.",
            "Check the CSeq: each REGISTER on the same Call-ID must have a higher CSeq "
            "(RFC 3261 §10.2).",
            "Read the reason phrase and Warning header for details.",
            "If it persists, report it to the operator with the time and Call-ID.",
        ),
    ),
    Entry(
        501,
        "Not Implemented",
        "RFC 3261 §21.5.2",
        summary="Server does not support REGISTER at all",
        meaning=(
            "The server does not support what the request needs, typically because it does "
            "not recognise the method for any user."
        ),
        for_register=(
            "The host you reached is not a registrar: a phone, a media gateway, a trunk that "
            "only takes calls, or another service on that port. Compare 405, where the "
            "server knows REGISTER but refuses it for this address."
        ),
        next_steps=(
            "Check the host and port you register to against the provider's settings.",
            "Ask the provider whether the account uses registration or IP authentication.",
            "Look at the Allow header, if any, for the methods it does support.",
        ),
    ),
    Entry(
        502,
        "Bad Gateway",
        "RFC 3261 §21.5.3",
        summary="A proxy got an invalid answer from the next server",
        meaning=(
            "A server acting as gateway or proxy received an invalid response from the "
            "server it forwarded the request to."
        ),
        for_register=(
            "A proxy or SBC in front of the registrar forwarded your REGISTER and got back "
            "something it could not use. The fault is between the provider's servers, not "
            "in your request."
        ),
        next_steps=(
            "Retry later; it is usually a fault between the provider's servers.",
            "If the provider offers another proxy or registrar, try it.",
            "If it persists, report it to the operator with the time and Call-ID.",
        ),
    ),
    Entry(
        503,
        "Service Unavailable",
        "RFC 3261 §21.5.4",
        summary="Overloaded or in maintenance: see Retry-After, try next server",
        meaning=(
            "The server cannot handle the request for now: it is overloaded or in "
            "maintenance. Retry-After may say when to try again; without it the client "
            "treats the 503 as a 500. The client should try another server and avoid this "
            "one for the Retry-After period."
        ),
        for_register=(
            "The registrar, or a proxy in front of it, refuses work right now, or a proxy "
            "could not reach the registrar behind it. Try the next server from the DNS SRV "
            "records (RFC 3263) and leave this one alone for the Retry-After period. A client "
            "also reports 503 itself after a transport error, such as an ICMP error or a "
            "refused TCP connection (RFC 3261 §8.1.3.1)."
        ),
        next_steps=(
            "Honour Retry-After, if present, before retrying this server.",
            "Try the next server from DNS: SRV records in priority and weight order (RFC 3263).",
            "Check in the ladder whether the 503 was received or was a local transport error.",
            "If every server answers 503, the service is down or refusing you; check the "
            "provider's status page.",
        ),
    ),
    Entry(
        504,
        "Server Time-out",
        "RFC 3261 §21.5.5",
        summary="A proxy got no timely answer from the server behind it",
        meaning=(
            "The server did not get a timely response from another server it contacted "
            "while handling the request."
        ),
        for_register=(
            "A proxy or SBC forwarded your REGISTER to the registrar, or the registrar asked "
            "a subscriber database, and the answer did not come in time. Your request reached "
            "the provider; the delay is inside their network."
        ),
        next_steps=(
            "Retry later; the problem is behind the first server you reached.",
            "Try another proxy or registrar of the provider, or the next DNS SRV target.",
            "If it persists, report it with the time and Call-ID.",
        ),
    ),
    Entry(
        505,
        "Version Not Supported",
        "RFC 3261 §21.5.6",
        summary="Server rejects the SIP version in the request line",
        meaning=(
            "The server does not support, or refuses to support, the SIP version used in "
            "the request."
        ),
        for_register=(
            "Every current client sends SIP/2.0, so a 505 means the request line arrived "
            "mangled: a middlebox such as a router's SIP ALG rewrote it, or a space or bad "
            "character in the Request-URI shifted the version field."
        ),
        next_steps=(
            "Check the raw request line that was sent: REGISTER, Request-URI, SIP/2.0.",
            "Look for spaces or unescaped characters in the Request-URI.",
            "Turn off any SIP ALG on the router, or use TLS so middleboxes cannot rewrite it.",
        ),
    ),
    Entry(
        513,
        "Message Too Large",
        "RFC 3261 §21.5.7",
        summary="Message too large for the server; try TCP",
        meaning=(
            "The server could not process the request because the message is longer than "
            "it can handle."
        ),
        for_register=(
            "The REGISTER was too big, usually over UDP. RFC 3261 §18.1.1 asks for a "
            "congestion-controlled transport such as TCP when a request comes within 200 "
            "bytes of the path MTU, or exceeds 1300 bytes if the MTU is unknown. Long "
            "Authorization or User-Agent headers and many Contacts make a REGISTER grow."
        ),
        next_steps=(
            "Register over TCP or TLS instead of UDP.",
            "Trim optional headers and extra Contacts from the REGISTER.",
            "Check the path for lost IP fragments (large UDP packets that never arrive).",
        ),
    ),
    Entry(
        555,
        "Push Notification Service Not Supported",
        "RFC 8599",
        summary="Registrar cannot use the push service named in Contact",
        meaning=(
            "The request asked for push notifications (pn-provider and related parameters "
            "on the Contact URI) through a service this proxy or registrar does not support."
        ),
        for_register=(
            "Your REGISTER's Contact names a push service the server cannot use; every retry "
            "with the same parameters will fail."
        ),
        next_steps=(
            "Remove the pn-* parameters from the Contact, or use a push service the server "
            "advertises in its sip.pns feature-capability indicator.",
        ),
    ),
    Entry(
        580,
        "Precondition Failure",
        "RFC 3312",
        summary="Session preconditions (such as QoS) could not be met",
        meaning=(
            "With the preconditions extension, the server could not meet the preconditions "
            "the session description asked for, such as reserved network resources (QoS)."
        ),
        for_register=(
            "Preconditions belong to INVITE and UPDATE with SDP; a REGISTER has none. A 580 "
            "to a REGISTER means a server bug or a request not handled as a REGISTER."
        ),
        next_steps=(
            "Check the CSeq method of the 580: INVITE or UPDATE means it belongs to a call.",
            "If the CSeq says REGISTER, capture the exchange and report it to the operator.",
        ),
    ),
    # ---- 6xx Global Failure (RFC 3261 §21.6) ----
    Entry(
        600,
        "Busy Everywhere",
        "RFC 3261 §21.6.1",
        summary="Busy everywhere; a 6xx means: do not try other servers",
        meaning=(
            "The callee was reached and is busy, and the server knows that no other end "
            "system would answer. Like every 6xx, it is final for the user, not only for this "
            "server: the client should not try elsewhere."
        ),
        for_register=(
            "No standard defines 600 for REGISTER. A server that sends it refuses this AoR "
            "everywhere; its reason phrase should give the real cause."
        ),
        next_steps=(
            "Read the reason phrase and Warning header to learn why the server refused.",
            "Do not fail over to other servers for this account: a 6xx is meant to stop that.",
            "Ask the provider about the account's status.",
        ),
    ),
    Entry(
        603,
        "Decline",
        "RFC 3261 §21.6.2",
        summary="Definitive refusal; for REGISTER often an account or IP block",
        meaning=(
            "The callee's machine was reached but the user does not wish to, or cannot, take "
            "part. Retry-After may give a better time. As a 6xx it is final everywhere."
        ),
        for_register=(
            "A registrar or SBC that answers a REGISTER with 603 refuses the registration "
            "outright and tells you not to try other servers. It usually marks a block: "
            "an anti-fraud or scanner filter (User-Agent, source IP or country), or a barred "
            "account."
        ),
        next_steps=(
            "Read the reason phrase and Warning header for the stated cause.",
            "Check whether your public IP or User-Agent could be blocked, for example after "
            "many failed attempts.",
            "Ask the provider whether the account is barred or limited to certain networks.",
        ),
    ),
    Entry(
        604,
        "Does Not Exist Anywhere",
        "RFC 3261 §21.6.3",
        summary="User definitely does not exist anywhere",
        meaning=(
            "The server has authoritative information that the user in the Request-URI does "
            "not exist anywhere."
        ),
        for_register="The AoR does not exist in this service at all; check it as for 404.",
        next_steps=("Check the user part and domain of your AoR with the provider.",),
    ),
    Entry(
        606,
        "Not Acceptable",
        "RFC 3261 §21.6.4",
        summary="Some aspect of the request is not acceptable anywhere",
        meaning=(
            "The user's agent was reached but some aspect of the session description (media, "
            "bandwidth, addressing style) is not acceptable, and would not be anywhere. A "
            "Warning header should say which."
        ),
        for_register=(
            "A REGISTER has no session description, so a 606 here is a final policy refusal "
            "of something else in the request, not a codec problem."
        ),
        next_steps=(
            "Read the Warning header and reason phrase for the rejected aspect.",
            "Check the transport, Contact address and any body of the REGISTER against the "
            "provider's requirements.",
            "Do not fail over to other servers for this account; fix the cause first.",
        ),
    ),
    Entry(
        607,
        "Unwanted",
        "RFC 8197",
        summary="Called party marked the call as unwanted",
        meaning=(
            "The called user does not want this call and, unlike a plain 603, says so "
            "explicitly, so that call analytics can learn from it."
        ),
        for_register=_NOT_FOR_REGISTER,
        next_steps=("Nothing to fix for a registration.",),
    ),
    Entry(
        608,
        "Rejected",
        "RFC 8688",
        summary="An intermediary (e.g. call analytics) rejected the request",
        meaning=(
            "An intermediary, such as a call-analytics or anti-spam engine, rather than the "
            "called user, rejected the call; a Call-Info header may say how to contest it."
        ),
        for_register=(
            "Not defined for REGISTER; if seen, a filter on the path blocked the request."
        ),
        next_steps=("Read the Call-Info header, if any, for whom to contact about the block.",),
    ),
    # ---- RFC 2543 codes that RFC 3261 dropped ----
    Entry(
        409,
        "Conflict",
        "RFC 2543 §7.4.10",
        summary="Legacy: REGISTER action conflicts with existing bindings",
        meaning=(
            "Defined only in RFC 2543: the request conflicts with the current state of the "
            "resource, returned when the action parameter of a REGISTER conflicted with "
            "existing registrations. RFC 3261 dropped it."
        ),
        for_register=(
            "Only an RFC 2543-era registrar sends this. Remove any action parameter from the "
            "Contact, or clear the old bindings (Contact: * with Expires: 0) and register "
            "again."
        ),
        next_steps=(
            "Remove the action= parameter from the Contact.",
            "Clear the existing bindings, then register again.",
        ),
        legacy=True,
    ),
    Entry(
        411,
        "Length Required",
        "RFC 2543 §7.4.12",
        summary="Legacy: server wants a Content-Length header",
        meaning=(
            "Defined only in RFC 2543: the server refuses a request without a defined "
            "Content-Length. RFC 3261 dropped it."
        ),
        for_register=(
            "Only an RFC 2543-era server sends this. Always send Content-Length (0 for a "
            "REGISTER without body); RFC 3261 requires it over TCP and TLS."
        ),
        next_steps=("Add Content-Length: 0 to the REGISTER.",),
        legacy=True,
    ),
)
