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
            "sipcheck demo" |\
            "sipcheck explain" |\
            "sipcheck lint" |\
            "sipcheck options" |\
            "sipcheck query" |\
            "sipcheck register" |\
            "sipcheck registrar" |\
            "sipcheck unregister") path="$path $word" ;;
            "sipcheck demo --transport" |\
            "sipcheck options --user" |\
            "sipcheck options --auth-user" |\
            "sipcheck options --password-env" |\
            "sipcheck options --password-file" |\
            "sipcheck options --password-command" |\
            "sipcheck options --realm" |\
            "sipcheck options --transport" |\
            "sipcheck options --server" |\
            "sipcheck options --bind" |\
            "sipcheck options --timeout" |\
            "sipcheck options --t1" |\
            "sipcheck options --ca-file" |\
            "sipcheck options --cert" |\
            "sipcheck options --key" |\
            "sipcheck query --user" |\
            "sipcheck query --auth-user" |\
            "sipcheck query --password-env" |\
            "sipcheck query --password-file" |\
            "sipcheck query --password-command" |\
            "sipcheck query --realm" |\
            "sipcheck query --transport" |\
            "sipcheck query --server" |\
            "sipcheck query --bind" |\
            "sipcheck query --timeout" |\
            "sipcheck query --t1" |\
            "sipcheck query --ca-file" |\
            "sipcheck query --cert" |\
            "sipcheck query --key" |\
            "sipcheck register --expires" |\
            "sipcheck register --contact" |\
            "sipcheck register --user" |\
            "sipcheck register --auth-user" |\
            "sipcheck register --password-env" |\
            "sipcheck register --password-file" |\
            "sipcheck register --password-command" |\
            "sipcheck register --realm" |\
            "sipcheck register --transport" |\
            "sipcheck register --server" |\
            "sipcheck register --bind" |\
            "sipcheck register --timeout" |\
            "sipcheck register --t1" |\
            "sipcheck register --ca-file" |\
            "sipcheck register --cert" |\
            "sipcheck register --key" |\
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
            "sipcheck unregister --contact" |\
            "sipcheck unregister --user" |\
            "sipcheck unregister --auth-user" |\
            "sipcheck unregister --password-env" |\
            "sipcheck unregister --password-file" |\
            "sipcheck unregister --password-command" |\
            "sipcheck unregister --realm" |\
            "sipcheck unregister --transport" |\
            "sipcheck unregister --server" |\
            "sipcheck unregister --bind" |\
            "sipcheck unregister --timeout" |\
            "sipcheck unregister --t1" |\
            "sipcheck unregister --ca-file" |\
            "sipcheck unregister --cert" |\
            "sipcheck unregister --key") skip=1 ;;
            *) ;;
        esac
    done
    if ((skip)); then
        case "$path ${COMP_WORDS[COMP_CWORD - 1]}" in
            "sipcheck demo --transport") _sipcheck_words "udp tcp" ;;
            "sipcheck options --user") : ;;
            "sipcheck options --auth-user") : ;;
            "sipcheck options --password-env") : ;;
            "sipcheck options --password-file") _sipcheck_files ;;
            "sipcheck options --password-command") : ;;
            "sipcheck options --realm") : ;;
            "sipcheck options --transport") _sipcheck_words "udp tcp tls" ;;
            "sipcheck options --server") : ;;
            "sipcheck options --bind") : ;;
            "sipcheck options --timeout") : ;;
            "sipcheck options --t1") : ;;
            "sipcheck options --ca-file") _sipcheck_files ;;
            "sipcheck options --cert") _sipcheck_files ;;
            "sipcheck options --key") _sipcheck_files ;;
            "sipcheck query --user") : ;;
            "sipcheck query --auth-user") : ;;
            "sipcheck query --password-env") : ;;
            "sipcheck query --password-file") _sipcheck_files ;;
            "sipcheck query --password-command") : ;;
            "sipcheck query --realm") : ;;
            "sipcheck query --transport") _sipcheck_words "udp tcp tls" ;;
            "sipcheck query --server") : ;;
            "sipcheck query --bind") : ;;
            "sipcheck query --timeout") : ;;
            "sipcheck query --t1") : ;;
            "sipcheck query --ca-file") _sipcheck_files ;;
            "sipcheck query --cert") _sipcheck_files ;;
            "sipcheck query --key") _sipcheck_files ;;
            "sipcheck register --expires") : ;;
            "sipcheck register --contact") : ;;
            "sipcheck register --user") : ;;
            "sipcheck register --auth-user") : ;;
            "sipcheck register --password-env") : ;;
            "sipcheck register --password-file") _sipcheck_files ;;
            "sipcheck register --password-command") : ;;
            "sipcheck register --realm") : ;;
            "sipcheck register --transport") _sipcheck_words "udp tcp tls" ;;
            "sipcheck register --server") : ;;
            "sipcheck register --bind") : ;;
            "sipcheck register --timeout") : ;;
            "sipcheck register --t1") : ;;
            "sipcheck register --ca-file") _sipcheck_files ;;
            "sipcheck register --cert") _sipcheck_files ;;
            "sipcheck register --key") _sipcheck_files ;;
            "sipcheck registrar --listen") : ;;
            "sipcheck registrar --account") : ;;
            "sipcheck registrar --accounts-file") _sipcheck_files ;;
            "sipcheck registrar --realm") : ;;
            "sipcheck registrar --challenge") _sipcheck_words "www proxy" ;;
            "sipcheck registrar --algorithm") : ;;
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
            "sipcheck unregister --contact") : ;;
            "sipcheck unregister --user") : ;;
            "sipcheck unregister --auth-user") : ;;
            "sipcheck unregister --password-env") : ;;
            "sipcheck unregister --password-file") _sipcheck_files ;;
            "sipcheck unregister --password-command") : ;;
            "sipcheck unregister --realm") : ;;
            "sipcheck unregister --transport") _sipcheck_words "udp tcp tls" ;;
            "sipcheck unregister --server") : ;;
            "sipcheck unregister --bind") : ;;
            "sipcheck unregister --timeout") : ;;
            "sipcheck unregister --t1") : ;;
            "sipcheck unregister --ca-file") _sipcheck_files ;;
            "sipcheck unregister --cert") _sipcheck_files ;;
            "sipcheck unregister --key") _sipcheck_files ;;
            *) ;;
        esac
        return 0
    fi
    case "$path" in
        "sipcheck") _sipcheck_words "--debug -V --version --help demo explain lint options query register registrar unregister" ;;
        "sipcheck demo") _sipcheck_words "--no-color -v --verbose --transport --debug --help" ;;
        "sipcheck explain") _sipcheck_words "--list --json --no-color -v --verbose --debug --help" ;;
        "sipcheck lint") if [[ "$cur" == -* ]]; then _sipcheck_words "--json --no-color -v --verbose --debug --help"; else _sipcheck_files; fi ;;
        "sipcheck options") _sipcheck_words "--user --auth-user --password-env --password-file --password-command --realm --transport --server --bind --timeout --t1 --ca-file --insecure --cert --key --json --no-color -v --verbose --debug --help" ;;
        "sipcheck query") _sipcheck_words "--user --auth-user --password-env --password-file --password-command --realm --transport --server --bind --timeout --t1 --ca-file --insecure --cert --key --json --no-color -v --verbose --debug --help" ;;
        "sipcheck register") _sipcheck_words "--expires --contact --user --auth-user --password-env --password-file --password-command --realm --transport --server --bind --timeout --t1 --ca-file --insecure --cert --key --json --no-color -v --verbose --debug --help" ;;
        "sipcheck registrar") _sipcheck_words "--listen --account --accounts-file --realm --challenge --algorithm --qop --min-expires --max-expires --nonce-lifetime --strict --cert --key --self-signed --tls-min --tls-max --drop --busy --retry-after --delay --max-connections --idle-timeout --max-content-length --duration --json --quiet --no-color -v --verbose --debug --help" ;;
        "sipcheck unregister") _sipcheck_words "--all --contact --user --auth-user --password-env --password-file --password-command --realm --transport --server --bind --timeout --t1 --ca-file --insecure --cert --key --json --no-color -v --verbose --debug --help" ;;
        *) ;;
    esac
    return 0
}

_sipcheck_words() {
    mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur")
}

_sipcheck_files() {
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}

complete -F _sipcheck sipcheck
