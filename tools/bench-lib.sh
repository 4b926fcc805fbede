# bench-lib.sh: what the benchmarks share (sourced, not run).

# drift_repair DIR: changes DIR/f1..f10 (each holds "file N" in state) one at a time and waits
# for the agent to put each back (bounded: 10 s a file); prints "median X ms, worst Y ms".
drift_repair() {
  local samples=() i f t0 t1 deadline
  for i in 1 2 3 4 5 6 7 8 9 10; do
    f="$1/f$i"
    t0=$(date +%s%N)
    deadline=$((t0 + 10000000000))
    echo drift >"$f"
    until [ "$(cat "$f")" = "file $i" ]; do
      [ "$(date +%s%N)" -lt "$deadline" ] || { echo "not repaired within 10 s"; return 1; }
    done
    t1=$(date +%s%N)
    samples+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${samples[@]}" | sort -n |
    awk '{a[NR]=$1} END {printf "median %.2f ms, worst %.2f ms", a[int((NR+1)/2)]/1000, a[NR]/1000}'
}

# wait_for_line FILE TEXT SECONDS: until FILE holds TEXT; fails (naming it) after SECONDS.
wait_for_line() {
  local deadline=$(( $(date +%s) + $3 ))
  until grep -q "$2" "$1"; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "no \"$2\" in $1 within $3 s" >&2; return 1; }
    sleep 0.05
  done
}
