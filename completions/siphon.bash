# bash completion for siphon(1).  Installed as
# $(DATADIR)/bash-completion/completions/siphon; needs nothing from the
# bash-completion package, so `source` alone works too.
#
# One line per option: its names, then what its value is (- none, file,
# dir, theme, or any other word for free text).  Adding an option to siphon
# is one line here, in the order of `siphon --help`.
_siphon_options=(
    "-j --concurrency    N"
    "--per-host          N"
    "--max-connections   N"
    "--buffer-size       SIZE"
    "--timeout           DUR"
    "--connect-timeout   DUR"
    "--stall-timeout     DUR"
    "--retries           N"
    "--conn-idle         DUR"
    "--conn-lifetime     DUR"
    "--dns-ttl           DUR"
    "-s --segments       N"
    "--min-segment       SIZE"
    "-d --dir            dir"
    "--overwrite         -"
    "--no-bell           -"
    "--header            HEADER"
    "--theme             theme"
    "--log               file"
    "--max-speed         SIZE"
    "--proxy             URL"
    "--no-proxy          HOSTS"
    "--user-agent        STR"
    "--cacert            file"
    "--insecure          -"
    "--netrc             -"
    "--netrc-file        file"
    "--http1.1           -"
    "--config            file"
    "--no-config         -"
    "--headless          -"
    "--json              -"
    "-h --help           -"
    "-V --version        -"
)

# Theme names: *.ini in the user's themes, the installed ones (DATADIR,
# and DATADIR as seen from the binary's directory), and themes/ beside the
# binary, as siphon looks them up; default and mono are built in.
_siphon_themes()
{
    local bin=$1 bindir d f
    local -a dirs=("${XDG_CONFIG_HOME:-$HOME/.config}/siphon/themes" "@DATADIR@/siphon/themes")
    [[ $bin == */* ]] || bin=$(type -P -- "$bin" 2>/dev/null)
    if [[ -n $bin ]]; then
        bindir=${bin%/*}
        dirs+=("$bindir/@DATADIR_REL@/siphon/themes" "$bindir/themes" "$bindir/../themes")
    fi
    printf '%s\n' default mono
    for d in "${dirs[@]}"; do
        for f in "$d"/*.ini; do
            [[ -f $f ]] || continue
            f=${f##*/}
            printf '%s\n' "${f%.ini}"
        done
    done
}

_siphon()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local line kind="" words=""
    # --opt=value: bash splits at '=' (COMP_WORDBREAKS)
    if [[ $cur == = ]]; then
        cur=""
    elif [[ $prev == = && $COMP_CWORD -ge 2 ]]; then
        prev=${COMP_WORDS[COMP_CWORD-2]}
    fi
    for line in "${_siphon_options[@]}"; do
        set -- $line
        local k=${!#} n
        for n in "${@:1:$#-1}"; do
            words+=" $n"
            [[ $n == "$prev" ]] && kind=$k
        done
    done
    COMPREPLY=()
    case $kind in
    "" | -)
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$words" -- "$cur"))
        else
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -f -- "$cur"))
        fi
        ;;
    file)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
        ;;
    dir)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -d -- "$cur"))
        ;;
    theme)
        if [[ $cur == */* ]]; then
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -f -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(_siphon_themes "${COMP_WORDS[0]}" | sort -u)" -- "$cur"))
        fi
        ;;
    esac
}
complete -F _siphon siphon
