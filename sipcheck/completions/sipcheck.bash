# Static completion for sipcheck, generated from its click commands by
#   python -m sipcheck.cli.completions
# Do not edit: regenerate instead.
# Install: source this file, or copy it to
#   ~/.local/share/bash-completion/completions/sipcheck

_sipcheck() {
    local cur="${COMP_WORDS[COMP_CWORD]}" path="sipcheck" word="" skip=0 i
    COMPREPLY=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${COMP_WORDS[i]}"
        if ((skip)); then
            skip=0
            continue
        fi
        case "$path $word" in
            "sipcheck analyze" |\
            "sipcheck check" |\
            "sipcheck completion" |\
            "sipcheck demo" |\
            "sipcheck explain" |\
            "sipcheck lint" |\
            "sipcheck options" |\
            "sipcheck query" |\
            "sipcheck register" |\
            "sipcheck registrar" |\
            "sipcheck sniff" |\
            "sipcheck unregister" |\
            "sipcheck watch") path="$path $word" ;;
            "sipcheck analyze --aor" |\
            "sipcheck analyze --call-id" |\
            "sipcheck analyze --password-env" |\
            "sipcheck analyze --password-file" |\
            "sipcheck analyze --password-command" |\
            "sipcheck analyze --auth-user" |\
            "sipcheck check --only" |\
            "sipcheck check --tag" |\
            "sipcheck check --concurrency" |\
            "sipcheck check --timeout" |\
            "sipcheck check --t1" |\
            "sipcheck check --pcap" |\
            "sipcheck check -w" |\
            "sipcheck check --warning" |\
            "sipcheck check -c" |\
            "sipcheck check --critical" |\
            "sipcheck check --junit" |\
            "sipcheck demo --transport" |\
            "sipcheck options --user" |\
            "sipcheck options --auth-user" |\
            "sipcheck options --password-env" |\
            "sipcheck options --password-file" |\
            "sipcheck options --password-command" |\
            "sipcheck options --ha1-env" |\
            "sipcheck options --ha1-file" |\
            "sipcheck options --realm" |\
            "sipcheck options --algorithm" |\
            "sipcheck options --transport" |\
            "sipcheck options --server" |\
            "sipcheck options --bind" |\
            "sipcheck options -H" |\
            "sipcheck options --header" |\
            "sipcheck options --user-agent" |\
            "sipcheck options --from" |\
            "sipcheck options --to" |\
            "sipcheck options --request-uri" |\
            "sipcheck options --max-forwards" |\
            "sipcheck options --timeout" |\
            "sipcheck options --t1" |\
            "sipcheck options --ca-file" |\
            "sipcheck options --cert" |\
            "sipcheck options --key" |\
            "sipcheck options -w" |\
            "sipcheck options --warning" |\
            "sipcheck options -c" |\
            "sipcheck options --critical" |\
            "sipcheck options --junit" |\
            "sipcheck options --count" |\
            "sipcheck options --interval" |\
            "sipcheck options --pcap" |\
            "sipcheck query --user" |\
            "sipcheck query --auth-user" |\
            "sipcheck query --password-env" |\
            "sipcheck query --password-file" |\
            "sipcheck query --password-command" |\
            "sipcheck query --ha1-env" |\
            "sipcheck query --ha1-file" |\
            "sipcheck query --realm" |\
            "sipcheck query --algorithm" |\
            "sipcheck query --transport" |\
            "sipcheck query --server" |\
            "sipcheck query --bind" |\
            "sipcheck query -H" |\
            "sipcheck query --header" |\
            "sipcheck query --user-agent" |\
            "sipcheck query --from" |\
            "sipcheck query --to" |\
            "sipcheck query --request-uri" |\
            "sipcheck query --max-forwards" |\
            "sipcheck query --timeout" |\
            "sipcheck query --t1" |\
            "sipcheck query --ca-file" |\
            "sipcheck query --cert" |\
            "sipcheck query --key" |\
            "sipcheck query --pcap" |\
            "sipcheck register --expires" |\
            "sipcheck register --contact" |\
            "sipcheck register --user" |\
            "sipcheck register --auth-user" |\
            "sipcheck register --password-env" |\
            "sipcheck register --password-file" |\
            "sipcheck register --password-command" |\
            "sipcheck register --ha1-env" |\
            "sipcheck register --ha1-file" |\
            "sipcheck register --realm" |\
            "sipcheck register --algorithm" |\
            "sipcheck register --transport" |\
            "sipcheck register --server" |\
            "sipcheck register --bind" |\
            "sipcheck register -H" |\
            "sipcheck register --header" |\
            "sipcheck register --user-agent" |\
            "sipcheck register --from" |\
            "sipcheck register --to" |\
            "sipcheck register --request-uri" |\
            "sipcheck register --max-forwards" |\
            "sipcheck register --timeout" |\
            "sipcheck register --t1" |\
            "sipcheck register --ca-file" |\
            "sipcheck register --cert" |\
            "sipcheck register --key" |\
            "sipcheck register -w" |\
            "sipcheck register --warning" |\
            "sipcheck register -c" |\
            "sipcheck register --critical" |\
            "sipcheck register --junit" |\
            "sipcheck register --count" |\
            "sipcheck register --interval" |\
            "sipcheck register --pcap" |\
            "sipcheck registrar --listen" |\
            "sipcheck registrar --account" |\
            "sipcheck registrar --accounts-file" |\
            "sipcheck registrar --realm" |\
            "sipcheck registrar --challenge" |\
            "sipcheck registrar --algorithm" |\
            "sipcheck registrar --qop" |\
            "sipcheck registrar --min-expires" |\
            "sipcheck registrar --max-expires" |\
            "sipcheck registrar --nonce-lifetime" |\
            "sipcheck registrar --cert" |\
            "sipcheck registrar --key" |\
            "sipcheck registrar --tls-min" |\
            "sipcheck registrar --tls-max" |\
            "sipcheck registrar --drop" |\
            "sipcheck registrar --busy" |\
            "sipcheck registrar --retry-after" |\
            "sipcheck registrar --delay" |\
            "sipcheck registrar --max-connections" |\
            "sipcheck registrar --idle-timeout" |\
            "sipcheck registrar --max-content-length" |\
            "sipcheck registrar --duration" |\
            "sipcheck registrar --pcap" |\
            "sipcheck sniff -i" |\
            "sipcheck sniff --interface" |\
            "sipcheck sniff --port" |\
            "sipcheck sniff --filter" |\
            "sipcheck sniff --count" |\
            "sipcheck sniff --duration" |\
            "sipcheck sniff --pcap" |\
            "sipcheck unregister --contact" |\
            "sipcheck unregister --user" |\
            "sipcheck unregister --auth-user" |\
            "sipcheck unregister --password-env" |\
            "sipcheck unregister --password-file" |\
            "sipcheck unregister --password-command" |\
            "sipcheck unregister --ha1-env" |\
            "sipcheck unregister --ha1-file" |\
            "sipcheck unregister --realm" |\
            "sipcheck unregister --algorithm" |\
            "sipcheck unregister --transport" |\
            "sipcheck unregister --server" |\
            "sipcheck unregister --bind" |\
            "sipcheck unregister -H" |\
            "sipcheck unregister --header" |\
            "sipcheck unregister --user-agent" |\
            "sipcheck unregister --from" |\
            "sipcheck unregister --to" |\
            "sipcheck unregister --request-uri" |\
            "sipcheck unregister --max-forwards" |\
            "sipcheck unregister --timeout" |\
            "sipcheck unregister --t1" |\
            "sipcheck unregister --ca-file" |\
            "sipcheck unregister --cert" |\
            "sipcheck unregister --key" |\
            "sipcheck unregister --pcap" |\
            "sipcheck watch --accounts" |\
            "sipcheck watch --only" |\
            "sipcheck watch --expires" |\
            "sipcheck watch --contact" |\
            "sipcheck watch --refresh-margin" |\
            "sipcheck watch --query-every" |\
            "sipcheck watch --duration" |\
            "sipcheck watch --on-change" |\
            "sipcheck watch --pcap" |\
            "sipcheck watch --user" |\
            "sipcheck watch --auth-user" |\
            "sipcheck watch --password-env" |\
            "sipcheck watch --password-file" |\
            "sipcheck watch --password-command" |\
            "sipcheck watch --ha1-env" |\
            "sipcheck watch --ha1-file" |\
            "sipcheck watch --realm" |\
            "sipcheck watch --algorithm" |\
            "sipcheck watch --transport" |\
            "sipcheck watch --server" |\
            "sipcheck watch --bind" |\
            "sipcheck watch -H" |\
            "sipcheck watch --header" |\
            "sipcheck watch --user-agent" |\
            "sipcheck watch --from" |\
            "sipcheck watch --to" |\
            "sipcheck watch --request-uri" |\
            "sipcheck watch --max-forwards" |\
            "sipcheck watch --timeout" |\
            "sipcheck watch --t1" |\
            "sipcheck watch --ca-file" |\
            "sipcheck watch --cert" |\
            "sipcheck watch --key") skip=1 ;;
            *) ;;
        esac
    done
    if ((skip)); then
        case "$path ${COMP_WORDS[COMP_CWORD - 1]}" in
            "sipcheck analyze --aor") : ;;
            "sipcheck analyze --call-id") : ;;
            "sipcheck analyze --password-env") : ;;
            "sipcheck analyze --password-file") _sipcheck_files ;;
            "sipcheck analyze --password-command") : ;;
            "sipcheck analyze --auth-user") : ;;
            "sipcheck check --only") : ;;
            "sipcheck check --tag") : ;;
            "sipcheck check --concurrency") : ;;
            "sipcheck check --timeout") : ;;
            "sipcheck check --t1") : ;;
            "sipcheck check --pcap") _sipcheck_files ;;
            "sipcheck check -w") : ;;
            "sipcheck check --warning") : ;;
            "sipcheck check -c") : ;;
            "sipcheck check --critical") : ;;
            "sipcheck check --junit") _sipcheck_files ;;
            "sipcheck demo --transport") _sipcheck_words "udp tcp" ;;
            "sipcheck options --user") : ;;
            "sipcheck options --auth-user") : ;;
            "sipcheck options --password-env") : ;;
            "sipcheck options --password-file") _sipcheck_files ;;
            "sipcheck options --password-command") : ;;
            "sipcheck options --ha1-env") : ;;
            "sipcheck options --ha1-file") _sipcheck_files ;;
            "sipcheck options --realm") : ;;
            "sipcheck options --algorithm") _sipcheck_list "MD5 SHA-256 SHA-512-256" ;;
            "sipcheck options --transport") _sipcheck_words "udp tcp tls" ;;
            "sipcheck options --server") : ;;
            "sipcheck options --bind") : ;;
            "sipcheck options -H") : ;;
            "sipcheck options --header") : ;;
            "sipcheck options --user-agent") : ;;
            "sipcheck options --from") : ;;
            "sipcheck options --to") : ;;
            "sipcheck options --request-uri") : ;;
            "sipcheck options --max-forwards") : ;;
            "sipcheck options --timeout") : ;;
            "sipcheck options --t1") : ;;
            "sipcheck options --ca-file") _sipcheck_files ;;
            "sipcheck options --cert") _sipcheck_files ;;
            "sipcheck options --key") _sipcheck_files ;;
            "sipcheck options -w") : ;;
            "sipcheck options --warning") : ;;
            "sipcheck options -c") : ;;
            "sipcheck options --critical") : ;;
            "sipcheck options --junit") _sipcheck_files ;;
            "sipcheck options --count") : ;;
            "sipcheck options --interval") : ;;
            "sipcheck options --pcap") _sipcheck_files ;;
            "sipcheck query --user") : ;;
            "sipcheck query --auth-user") : ;;
            "sipcheck query --password-env") : ;;
            "sipcheck query --password-file") _sipcheck_files ;;
            "sipcheck query --password-command") : ;;
            "sipcheck query --ha1-env") : ;;
            "sipcheck query --ha1-file") _sipcheck_files ;;
            "sipcheck query --realm") : ;;
            "sipcheck query --algorithm") _sipcheck_list "MD5 SHA-256 SHA-512-256" ;;
            "sipcheck query --transport") _sipcheck_words "udp tcp tls" ;;
            "sipcheck query --server") : ;;
            "sipcheck query --bind") : ;;
            "sipcheck query -H") : ;;
            "sipcheck query --header") : ;;
            "sipcheck query --user-agent") : ;;
            "sipcheck query --from") : ;;
            "sipcheck query --to") : ;;
            "sipcheck query --request-uri") : ;;
            "sipcheck query --max-forwards") : ;;
            "sipcheck query --timeout") : ;;
            "sipcheck query --t1") : ;;
            "sipcheck query --ca-file") _sipcheck_files ;;
            "sipcheck query --cert") _sipcheck_files ;;
            "sipcheck query --key") _sipcheck_files ;;
            "sipcheck query --pcap") _sipcheck_files ;;
            "sipcheck register --expires") : ;;
            "sipcheck register --contact") : ;;
            "sipcheck register --user") : ;;
            "sipcheck register --auth-user") : ;;
            "sipcheck register --password-env") : ;;
            "sipcheck register --password-file") _sipcheck_files ;;
            "sipcheck register --password-command") : ;;
            "sipcheck register --ha1-env") : ;;
            "sipcheck register --ha1-file") _sipcheck_files ;;
            "sipcheck register --realm") : ;;
            "sipcheck register --algorithm") _sipcheck_list "MD5 SHA-256 SHA-512-256" ;;
            "sipcheck register --transport") _sipcheck_words "udp tcp tls" ;;
            "sipcheck register --server") : ;;
            "sipcheck register --bind") : ;;
            "sipcheck register -H") : ;;
            "sipcheck register --header") : ;;
            "sipcheck register --user-agent") : ;;
            "sipcheck register --from") : ;;
            "sipcheck register --to") : ;;
            "sipcheck register --request-uri") : ;;
            "sipcheck register --max-forwards") : ;;
            "sipcheck register --timeout") : ;;
            "sipcheck register --t1") : ;;
            "sipcheck register --ca-file") _sipcheck_files ;;
            "sipcheck register --cert") _sipcheck_files ;;
            "sipcheck register --key") _sipcheck_files ;;
            "sipcheck register -w") : ;;
            "sipcheck register --warning") : ;;
            "sipcheck register -c") : ;;
            "sipcheck register --critical") : ;;
            "sipcheck register --junit") _sipcheck_files ;;
            "sipcheck register --count") : ;;
            "sipcheck register --interval") : ;;
            "sipcheck register --pcap") _sipcheck_files ;;
            "sipcheck registrar --listen") : ;;
            "sipcheck registrar --account") : ;;
            "sipcheck registrar --accounts-file") _sipcheck_files ;;
            "sipcheck registrar --realm") : ;;
            "sipcheck registrar --challenge") _sipcheck_words "www proxy" ;;
            "sipcheck registrar --algorithm") _sipcheck_list "MD5 MD5-sess SHA-256 SHA-256-sess SHA-512-256 SHA-512-256-sess" ;;
            "sipcheck registrar --qop") _sipcheck_words "auth auth-int both none" ;;
            "sipcheck registrar --min-expires") : ;;
            "sipcheck registrar --max-expires") : ;;
            "sipcheck registrar --nonce-lifetime") : ;;
            "sipcheck registrar --cert") _sipcheck_files ;;
            "sipcheck registrar --key") _sipcheck_files ;;
            "sipcheck registrar --tls-min") _sipcheck_words "1.2 1.3" ;;
            "sipcheck registrar --tls-max") _sipcheck_words "1.2 1.3" ;;
            "sipcheck registrar --drop") : ;;
            "sipcheck registrar --busy") : ;;
            "sipcheck registrar --retry-after") : ;;
            "sipcheck registrar --delay") : ;;
            "sipcheck registrar --max-connections") : ;;
            "sipcheck registrar --idle-timeout") : ;;
            "sipcheck registrar --max-content-length") : ;;
            "sipcheck registrar --duration") : ;;
            "sipcheck registrar --pcap") _sipcheck_files ;;
            "sipcheck sniff -i") : ;;
            "sipcheck sniff --interface") : ;;
            "sipcheck sniff --port") : ;;
            "sipcheck sniff --filter") : ;;
            "sipcheck sniff --count") : ;;
            "sipcheck sniff --duration") : ;;
            "sipcheck sniff --pcap") _sipcheck_files ;;
            "sipcheck unregister --contact") : ;;
            "sipcheck unregister --user") : ;;
            "sipcheck unregister --auth-user") : ;;
            "sipcheck unregister --password-env") : ;;
            "sipcheck unregister --password-file") _sipcheck_files ;;
            "sipcheck unregister --password-command") : ;;
            "sipcheck unregister --ha1-env") : ;;
            "sipcheck unregister --ha1-file") _sipcheck_files ;;
            "sipcheck unregister --realm") : ;;
            "sipcheck unregister --algorithm") _sipcheck_list "MD5 SHA-256 SHA-512-256" ;;
            "sipcheck unregister --transport") _sipcheck_words "udp tcp tls" ;;
            "sipcheck unregister --server") : ;;
            "sipcheck unregister --bind") : ;;
            "sipcheck unregister -H") : ;;
            "sipcheck unregister --header") : ;;
            "sipcheck unregister --user-agent") : ;;
            "sipcheck unregister --from") : ;;
            "sipcheck unregister --to") : ;;
            "sipcheck unregister --request-uri") : ;;
            "sipcheck unregister --max-forwards") : ;;
            "sipcheck unregister --timeout") : ;;
            "sipcheck unregister --t1") : ;;
            "sipcheck unregister --ca-file") _sipcheck_files ;;
            "sipcheck unregister --cert") _sipcheck_files ;;
            "sipcheck unregister --key") _sipcheck_files ;;
            "sipcheck unregister --pcap") _sipcheck_files ;;
            "sipcheck watch --accounts") _sipcheck_files ;;
            "sipcheck watch --only") : ;;
            "sipcheck watch --expires") : ;;
            "sipcheck watch --contact") : ;;
            "sipcheck watch --refresh-margin") : ;;
            "sipcheck watch --query-every") : ;;
            "sipcheck watch --duration") : ;;
            "sipcheck watch --on-change") : ;;
            "sipcheck watch --pcap") _sipcheck_files ;;
            "sipcheck watch --user") : ;;
            "sipcheck watch --auth-user") : ;;
            "sipcheck watch --password-env") : ;;
            "sipcheck watch --password-file") _sipcheck_files ;;
            "sipcheck watch --password-command") : ;;
            "sipcheck watch --ha1-env") : ;;
            "sipcheck watch --ha1-file") _sipcheck_files ;;
            "sipcheck watch --realm") : ;;
            "sipcheck watch --algorithm") _sipcheck_list "MD5 SHA-256 SHA-512-256" ;;
            "sipcheck watch --transport") _sipcheck_words "udp tcp tls" ;;
            "sipcheck watch --server") : ;;
            "sipcheck watch --bind") : ;;
            "sipcheck watch -H") : ;;
            "sipcheck watch --header") : ;;
            "sipcheck watch --user-agent") : ;;
            "sipcheck watch --from") : ;;
            "sipcheck watch --to") : ;;
            "sipcheck watch --request-uri") : ;;
            "sipcheck watch --max-forwards") : ;;
            "sipcheck watch --timeout") : ;;
            "sipcheck watch --t1") : ;;
            "sipcheck watch --ca-file") _sipcheck_files ;;
            "sipcheck watch --cert") _sipcheck_files ;;
            "sipcheck watch --key") _sipcheck_files ;;
            *) ;;
        esac
        return 0
    fi
    case "$path" in
        "sipcheck") _sipcheck_words "--debug -V --version -h --help analyze check completion demo explain lint options query register registrar sniff unregister watch" ;;
        "sipcheck analyze") if [[ "$cur" == -* ]]; then _sipcheck_words "--aor --call-id --failed --summary --password-env --password-file --password-command --auth-user --json --no-color -v --verbose --debug -h --help"; else _sipcheck_files; fi ;;
        "sipcheck check") if [[ "$cur" == -* ]]; then _sipcheck_words "--only --tag --concurrency --keep --timeout --t1 --pcap --json --no-color -v --verbose --nagios -w --warning -c --critical --junit --debug -h --help"; else _sipcheck_files; fi ;;
        "sipcheck completion") _sipcheck_words "--debug -h --help bash zsh fish" ;;
        "sipcheck demo") _sipcheck_words "--no-color -v --verbose --transport --debug -h --help" ;;
        "sipcheck explain") _sipcheck_words "--list --json --no-color -v --verbose --debug -h --help 100 180 181 182 183 199 200 202 204 300 301 302 305 380 400 401 402 403 404 405 406 407 408 409 410 411 412 413 414 415 416 417 420 421 422 423 424 425 428 429 430 433 436 437 438 439 440 469 470 480 481 482 483 484 485 486 487 488 489 491 493 494 500 501 502 503 504 505 513 555 580 600 603 604 606 607 608" ;;
        "sipcheck lint") if [[ "$cur" == -* ]]; then _sipcheck_words "--json --no-color -v --verbose --debug -h --help"; else _sipcheck_files; fi ;;
        "sipcheck options") _sipcheck_words "--user --auth-user --password-env --password-file --password-command --ha1-env --ha1-file --realm --algorithm --transport -4 --ipv4 -6 --ipv6 --server --bind -H --header --user-agent --from --to --request-uri --max-forwards --timeout --t1 --ca-file --insecure --cert --key --json --no-color -v --verbose --nagios -w --warning -c --critical --junit --count --interval --pcap --debug -h --help" ;;
        "sipcheck query") _sipcheck_words "--user --auth-user --password-env --password-file --password-command --ha1-env --ha1-file --realm --algorithm --transport -4 --ipv4 -6 --ipv6 --server --bind -H --header --user-agent --from --to --request-uri --max-forwards --timeout --t1 --ca-file --insecure --cert --key --json --no-color -v --verbose --pcap --debug -h --help" ;;
        "sipcheck register") _sipcheck_words "--expires --contact --user --auth-user --password-env --password-file --password-command --ha1-env --ha1-file --realm --algorithm --transport -4 --ipv4 -6 --ipv6 --server --bind -H --header --user-agent --from --to --request-uri --max-forwards --timeout --t1 --ca-file --insecure --cert --key --json --no-color -v --verbose --nagios -w --warning -c --critical --junit --count --interval --pcap --debug -h --help" ;;
        "sipcheck registrar") _sipcheck_words "--listen --account --accounts-file --realm --challenge --algorithm --qop --min-expires --max-expires --nonce-lifetime --strict --cert --key --self-signed --tls-min --tls-max --drop --busy --retry-after --delay --max-connections --idle-timeout --max-content-length --duration --json --quiet --pcap --no-color -v --verbose --debug -h --help" ;;
        "sipcheck sniff") _sipcheck_words "-i --interface --port --filter --count --duration --pcap --json --no-color -v --verbose --debug -h --help" ;;
        "sipcheck unregister") _sipcheck_words "--all --contact --user --auth-user --password-env --password-file --password-command --ha1-env --ha1-file --realm --algorithm --transport -4 --ipv4 -6 --ipv6 --server --bind -H --header --user-agent --from --to --request-uri --max-forwards --timeout --t1 --ca-file --insecure --cert --key --json --no-color -v --verbose --pcap --debug -h --help" ;;
        "sipcheck watch") _sipcheck_words "--accounts --only --expires --contact --refresh-margin --query-every --duration --exit-on-failure --on-change --pcap --user --auth-user --password-env --password-file --password-command --ha1-env --ha1-file --realm --algorithm --transport -4 --ipv4 -6 --ipv6 --server --bind -H --header --user-agent --from --to --request-uri --max-forwards --timeout --t1 --ca-file --insecure --cert --key --json --no-color -v --verbose --debug -h --help" ;;
        *) ;;
    esac
    return 0
}

_sipcheck_words() {
    mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur")
}

_sipcheck_list() {
    # A comma list: complete the item after the last comma.
    local head=""
    [[ "$cur" == *,* ]] && head="${cur%,*},"
    mapfile -t COMPREPLY < <(compgen -W "$1" -P "$head" -- "${cur##*,}")
    compopt -o nospace 2>/dev/null
}

_sipcheck_files() {
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}

complete -F _sipcheck sipcheck
