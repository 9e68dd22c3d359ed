# bash completion for restoredrill (installed by `make install` as
# PREFIX/share/bash-completion/completions/restoredrill). Subcommands, their
# options, and the values of --engine, --format and `history verify`;
# files elsewhere. tests/integration/t_install.sh checks the option lists
# against `restoredrill help COMMAND`.

_restoredrill_opts() {
    case $1 in
    run) echo "--target --seed --parallel --shard --out --keep-scratch --dry-run --negative-control" ;;
    list) echo "--target --json" ;;
    validate) echo "--offline" ;;
    backup) echo "--engine --dsn -o --output --format --gzip --zstd --no-checksums --checksums --freshness-query --all-databases --databases --no-sections" ;;
    manifest) echo "--engine --dsn -o --output --no-checksums --checksums --freshness-query --all-databases --databases --bucket --prefix --endpoint --region --path-style --table" ;;
    checksum) echo "--engine --dsn --table --against --manifest --parallel --chunk-rows --json" ;;
    diff) echo "--engine --dsn --against --table --against-table --key --where --max-rows --parallel --chunk-rows --leaf-rows --json" ;;
    heartbeat) echo "--engine --dsn --interval --duration --table --writer" ;;
    report) echo "--junit --html --json --prometheus --history --append-history --sign" ;;
    evidence) echo "--pub --sig -o --config" ;;
    coverage) echo "--history --target --json" ;;
    gc) echo "--older-than --dry-run" ;;
    *) echo "" ;;
    esac
}

_restoredrill() {
    local cur prev words cword cmd i
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    local commands="run list validate backup manifest checksum diff heartbeat report history evidence coverage gc version help"
    local globals="--quiet --verbose --no-progress --help --version"
    cmd=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        -*) ;;
        *) cmd=${COMP_WORDS[i]}; break ;;
        esac
    done
    if [ -z "$cmd" ]; then
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "$globals" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
        fi
        return 0
    fi
    case $prev in
    --engine)
        mapfile -t COMPREPLY < <(compgen -W "postgres mariadb" -- "$cur")
        return 0 ;;
    --format)
        mapfile -t COMPREPLY < <(compgen -W "custom plain directory sql" -- "$cur")
        return 0 ;;
    --dsn | --against | --table | --against-table | --key | --where | --seed | --parallel | \
        --shard | --target | --chunk-rows | --leaf-rows | --max-rows | --interval | \
        --duration | --writer | --older-than | --freshness-query | --bucket | --prefix | \
        --endpoint | --region)
        return 0 ;;
    esac
    case $cmd in
    help)
        mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
        return 0 ;;
    history)
        if [ "$prev" = history ] && [[ $cur != -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "verify" -- "$cur")
            return 0
        fi ;;
    evidence)
        if [ "$prev" = evidence ] && [[ $cur != -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "verify pack" -- "$cur")
            return 0
        fi ;;
    esac
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_restoredrill_opts "$cmd") $globals" -- "$cur")
        return 0
    fi
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    return 0
}
complete -o filenames -F _restoredrill restoredrill
