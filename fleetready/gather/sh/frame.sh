# shellcheck shell=sh
# The framing of the gathering script's outputs (facts.py reads it back).

# fr_cap CMD...: runs CMD and leaves in fr_c its stderr then its stdout, captured together
# through one pipe (stderr on fd 3), so the host needs no temporary file: reading a host
# leaves no trace, not even a directory's mtime. fr_rc, fr_el and fr_ol are the exit status
# and the two byte lengths (${#var} under LC_ALL=C); " RC" and " LEN" trail each capture so
# the shell strips no trailing newline of the output. CMD may be a function: it runs in a
# subshell, so it must `return`, not `exit`, to have its status framed.
fr_cap() {
    fr_c=$( { fr_o=$("$@" 2>&3 </dev/null; printf ' %s' $?); printf '%s %s' "$fr_o" ${#fr_o}; } 3>&1 )
    fr_ol=${fr_c##* }; fr_c=${fr_c% *}; fr_rc=${fr_c##* }; fr_c=${fr_c% *}
    fr_ol=$((fr_ol - 1 - ${#fr_rc})); fr_el=$((${#fr_c} - fr_ol))
}

# fr_part NAME CMD...: frames one output of a section that gathers several (Section.parts()).
fr_part() {
    fr_n=$1; shift
    fr_cap "$@"
    printf '%s %s %s %s\n%s' "$fr_n" "$fr_rc" "$fr_el" "$fr_ol" "$fr_c"
}

# fr_emit MARKER MAX NAME: frames the last capture as section NAME. A runaway section is cut
# on the host to MAX bytes of each stream; the frame is rebuilt from the cut parts.
fr_emit() {
    if [ "$fr_el" -gt "$2" ] || [ "$fr_ol" -gt "$2" ]; then
        fr_e=$(printf %s "$fr_c" | head -c "$fr_el" | head -c "$2")
        fr_o=$(printf %s "$fr_c" | tail -c "$fr_ol" | head -c "$2")
        fr_c=$fr_e$fr_o; fr_el=${#fr_e}; fr_ol=${#fr_o}
    fi
    printf '%s %s %s %s %s\n%s' "$1" "$3" "$fr_rc" "$fr_el" "$fr_ol" "$fr_c"
}
