# fish completion for siphon(1).  Installed as
# $(DATADIR)/fish/vendor_completions.d/siphon.fish.
#
# One `complete` line per option, in the order of `siphon --help`: adding an
# option to siphon is one line here.  -r -F: a file; -x -a: the listed values.

# Theme names, from the places siphon looks (see FILES in siphon(1)).
function __siphon_themes
    set -l bin (commandline -opc)[1]
    if not string match -q '*/*' -- $bin
        set bin (command -s -- $bin)
    end
    set -l cfg $XDG_CONFIG_HOME
    test -n "$cfg"; or set cfg $HOME/.config
    set -l dirs $cfg/siphon/themes @DATADIR@/siphon/themes
    if test -n "$bin"
        set -l bindir (path dirname -- $bin 2>/dev/null; or dirname -- $bin)
        set -a dirs $bindir/@DATADIR_REL@/siphon/themes $bindir/themes $bindir/../themes
    end
    printf '%s\n' default mono
    for d in $dirs
        for f in $d/*.ini
            string replace -r '\.ini$' '' -- (basename -- $f)
        end
    end
end

complete -c siphon -s j -l concurrency -x -d 'transfers running at once'
complete -c siphon -l per-host -x -d 'connections to one host at once'
complete -c siphon -l max-connections -x -d 'connections open in the whole pool'
complete -c siphon -l buffer-size -x -d 'buffer of one transfer, 16K..8M'
complete -c siphon -l timeout -x -d 'whole-item limit while it runs'
complete -c siphon -l connect-timeout -x -d 'TCP+TLS connect limit'
complete -c siphon -l stall-timeout -x -d 'no byte for this long: timed out'
complete -c siphon -l retries -x -d 'retries after a transient failure'
complete -c siphon -l conn-idle -x -d 'close a connection idle this long'
complete -c siphon -l conn-lifetime -x -d 'reuse no connection this old'
complete -c siphon -l dns-ttl -x -d 'how long a resolved address is cached'
complete -c siphon -s s -l segments -x -d 'connections one file may use at once, 1..32'
complete -c siphon -l min-segment -x -d 'no segment smaller than this'
complete -c siphon -s d -l dir -x -a '(__fish_complete_directories (commandline -ct))' -d 'where files go'
complete -c siphon -l overwrite -d 'replace an existing complete file'
complete -c siphon -l no-bell -d 'no bell when everything has finished'
complete -c siphon -l header -x -d 'extra request header (K: V)'
complete -c siphon -l theme -x -a '(__siphon_themes | sort -u)' -d 'colour theme'
complete -c siphon -l log -r -F -d 'one line per request and response'
complete -c siphon -l max-speed -x -d 'whole-run limit in bytes/s'
complete -c siphon -l proxy -x -d 'http(s), socks5 or socks5h proxy, or none'
complete -c siphon -l no-proxy -x -d 'hosts or domains reached directly'
complete -c siphon -l user-agent -x -d 'the User-Agent header'
complete -c siphon -l cacert -r -F -d 'trust the CA certificates in this file'
complete -c siphon -l insecure -d 'do not verify TLS certificates'
complete -c siphon -l netrc -d 'credentials per host from ~/.netrc'
complete -c siphon -l netrc-file -r -F -d 'credentials per host from this file'
complete -c siphon -l http1.1 -d 'never use HTTP/2'
complete -c siphon -l config -r -F -d 'start from this config file'
complete -c siphon -l no-config -d 'read no config file'
complete -c siphon -l headless -d 'no screen: progress as text on stderr'
complete -c siphon -l json -d 'one JSON event per line on stdout'
complete -c siphon -s h -l help -d 'the options'
complete -c siphon -s V -l version -d 'the version'
