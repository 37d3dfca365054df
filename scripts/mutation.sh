#!/usr/bin/env bash
# Mutation testing of the core modules fmnist/atomic.py, fmnist/records.py and fmnist/schema.py with mutmut
# ([tool.mutmut] in pyproject.toml): each mutant is run against the fast unit tests that reach the mutated function,
# picked among tests/test_atomic.py, test_records.py, test_schema.py and test_params.py (never the e2e tests).
# By hand, not in CI (`make test` does not run it):
#
#   scripts/mutation.sh              # prints the survivors and the score of each module
#   JOBS=2 scripts/mutation.sh       # mutants run on two workers (default one: it shares the machine)
#   KEEP=1 scripts/mutation.sh       # keeps the work copy, to read a survivor there: `mutmut show NAME`
#
# It works in a copy of the checkout (its files that git tracks or would track, as they are now), in a temporary
# folder: mutmut writes its mutants/ folder beside pyproject.toml, so nothing lands in the checkout, and edits made
# meanwhile do not change the run. Needs mutmut (requirements-dev.txt; `make test` installs it).
#
# Measured on 2026-12-04: 120 s for the whole run (495 mutants, 490 killed; `nice -n 19`, one worker; 204 s on a busier
# machine) on an AMD EPYC (`lscpu | grep "Model name"`), 2 cores shared with other work. Survivors cost the most (each
# runs every test that reaches its function): with the 93 survivors of the tests at 45848c9 the same run took 820 s
# (1322 s on a busier machine). The 5 survivors left are equivalent mutants: the same behaviour whatever the input.
#
# Equivalent survivors (judged by reading the code; mutmut numbers a function's mutants anew when it changes):
#   fmnist.atomic.x__current_umask__mutmut_3        os.umask(1), not 0, while reading the mask: it is put back all the
#                                                   same and the same value returned
#   fmnist.atomic.xǁStagedOutputsǁsave_npy__mutmut_10  allow_pickle=None: numpy tests `not allow_pickle`, None as False
#   fmnist.atomic.x_load_npy__mutmut_3              allow_pickle=None: the same test in np.load
#   fmnist.atomic.x_load_npy__mutmut_6              allow_pickle left out: np.load's default is already False
#   fmnist.schema.x_Float__mutmut_10                integer=False left out: Number's default is already False
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${VENV:-$PWD/.venv}/bin
[[ -x $bin/mutmut ]] || { echo "mutmut is not installed in $bin: pip install -r requirements-dev.txt" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/fmnist-mutation.XXXXXX")
if [[ -z ${KEEP:-} ]]; then
  trap 'rm -rf "$work"' EXIT
fi
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' file; do if [[ -e $file ]]; then printf '%s\0' "$file"; fi; done |  # not deleted ones
  xargs -0 cp --parents -t "$work"

cd "$work"
start=$SECONDS
nice -n 19 "$bin/mutmut" run --max-children "${JOBS:-1}" >mutmut-run.log 2>&1 || {
  tail -c 4000 mutmut-run.log >&2
  exit 1
}
"$bin/mutmut" results --all true >results.txt
echo "mutmut ran for $((SECONDS - start)) s in $work; survivors (\`mutmut show NAME\` there, with KEEP=1):"
grep -v -E ': (killed|timeout)$' results.txt || echo "    none"
# A mutant counts as killed when a test failed or timed out on it; "survived" and "no tests" are not.
awk -F': ' '{ split($1, name, "."); module = name[1] "/" name[2] ".py"; sub(/^ +/, "", module)
             total[module]++; if ($2 == "killed" || $2 == "timeout") killed[module]++ }
     END { for (m in total) printf "%-20s %4d/%-4d killed (%.1f %%)\n", m, killed[m], total[m],
                                   100 * killed[m] / total[m] }' \
  results.txt | sort
