#!/bin/sh
# t_install.sh: `make install` with PREFIX and DESTDIR puts the binary, the
# man page, the schemas, the examples and the bash completion in place; the
# installed binary runs; the man page renders without a groff warning and
# names every subcommand, every option of each (`restoredrill help CMD`) and
# every configuration key the parser accepts (read from the sources); the
# bash completion offers every option of each subcommand and completes
# subcommands and --engine values.
[ -n "${RD_BIN:-}" ] && [ -x "$RD_BIN" ] || { echo "RD_BIN is not set to the built binary"; exit 77; }
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
build=$(dirname "$RD_BIN")

make -s -C "$top" install BUILD="$build" DESTDIR="$tmp/root" PREFIX=/opt/rd >"$tmp/make.log" 2>&1 ||
    { cat "$tmp/make.log"; fail "make install"; }
p="$tmp/root/opt/rd"
for f in bin/restoredrill share/man/man1/restoredrill.1 share/restoredrill/schema/report-v1.schema.json \
    share/restoredrill/schema/junit.xsd share/doc/restoredrill/examples/full.jsonc \
    share/doc/restoredrill/examples/minimal.json share/bash-completion/completions/restoredrill; do
    [ -s "$p/$f" ] || fail "not installed: $f"
done
[ -x "$p/bin/restoredrill" ] || fail "the installed binary is not executable"
[ "$("$p/bin/restoredrill" version | head -n 1)" = "$("$RD_BIN" version | head -n 1)" ] ||
    fail "installed binary: $("$p/bin/restoredrill" version | head -n 1)"
outside=$(find "$tmp/root" -type f | grep -v "^$p/")
[ -z "$outside" ] || fail "installed outside DESTDIR/PREFIX: $outside"

# the man page: renders cleanly, names every command, option and key
man1="$p/share/man/man1/restoredrill.1"
warn=$(groff -man -ww -z "$man1" 2>&1)
[ -z "$warn" ] || fail "groff warnings: $warn"
MANWIDTH=200 man -l "$man1" 2>/dev/null | sed 's/‐//g' >"$tmp/man.txt"
[ -s "$tmp/man.txt" ] || fail "man -l rendered nothing"
cmds=$("$RD_BIN" --help | sed -n 's/^  \([a-z]*\) .*/\1/p')
[ -n "$cmds" ] || fail "no commands in --help"
for c in $cmds; do
    grep -q "restoredrill $c\b" "$tmp/man.txt" || fail "man page: no synopsis of $c"
    for o in $("$RD_BIN" help "$c" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
        grep -qF -- "$o" "$tmp/man.txt" || fail "man page: $c option $o missing"
    done
done
keys=$(cd "$top" && for f in harness/config/*.c checks/*.c; do
    awk '/keys\[\] = \{/,/\};/' "$f" | grep -o '"[a-z_]*"'
    grep -o 'RD_F[A-Z]*("[a-z_]*"' "$f" | grep -o '"[a-z_]*"'
done | tr -d '"' | sort -u)
[ "$(echo "$keys" | wc -l)" -gt 80 ] || fail "found only $(echo "$keys" | wc -l) configuration keys in the sources"
for k in $keys; do
    grep -qw -- "$k" "$tmp/man.txt" || fail "man page: configuration key $k missing"
done

# bash completion
comp="$p/share/bash-completion/completions/restoredrill"
complete_words() { # WORDS...: COMPREPLY for the last word
    bash -c '. "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _restoredrill; echo "${COMPREPLY[*]}"' \
        "$comp" "$@"
}
[ "$(complete_words restoredrill ba)" = "backup" ] || fail "completion of ba: $(complete_words restoredrill ba)"
[ "$(complete_words restoredrill --quiet backup --engine '')" = "postgres mariadb" ] || fail "--engine values"
[ "$(complete_words restoredrill history '')" = "verify" ] || fail "history verify"
for c in $cmds; do
    [ "$c" = help ] && continue
    got=" $(complete_words restoredrill "$c" --) "
    for o in $("$RD_BIN" help "$c" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
        case "$got" in *" $o "*) ;; *) fail "completion: $c lacks $o" ;; esac
    done
done

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "install: all cases passed"
