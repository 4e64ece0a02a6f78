#!/usr/bin/env bash
# Mutation testing of the core modules with mutmut (see tests/MUTATION.md for the results).
#
#   tests/mutation.sh [WORKDIR [MODULE...]]   # about 10 minutes on 2 busy cores; prints the table
#
# MODULE is a path such as helper/lookup/patterns.py; without any, the six core modules below.
#
# mutmut 3 names each mutant after its module's dotted path, which must be the name the tests
# import (`readystack.helper.lookup.patterns`). The checkout maps `readystack.helper` onto `helper/`
# through setuptools' package-dir, so the run works on a scratch copy laid out under those names:
# WORKDIR/readystack/{helper,store} and the unit tests, with its own venv (mutmut is not a
# project dependency). Nothing in the checkout is changed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${1:-$(mktemp -d /tmp/readystack-mutation.XXXXXX)}"
shift $(($# > 0 ? 1 : 0))
MODULES=("$@")
if [ ${#MODULES[@]} -eq 0 ]; then
    MODULES=(helper/lookup/patterns.py helper/lookup/target.py helper/lookup/reference.py store/hosts.py
        helper/lookup/resolver.py helper/lookup/protocol.py)
fi
mkdir -p "$WORK"
cd "$WORK"
rm -rf readystack tests mutants
mkdir readystack
touch readystack/__init__.py
cp -r "$ROOT/helper" readystack/helper
cp -r "$ROOT/store" readystack/store
cp -r "$ROOT/tests" tests  # all of it: shared modules import each other; only unit tests run
find readystack tests -name __pycache__ -prune -exec rm -rf {} +

ONLY=""
for module in "${MODULES[@]}"; do
    ONLY+="    \"readystack/$module\","$'\n'
done
cat >pyproject.toml <<EOF
[tool.pytest.ini_options]
testpaths = ["tests"]

[tool.mutmut]
source_paths = ["readystack/"]
only_mutate = [
$ONLY]
# Only the unit tests: fast, and the property tests run with their fixed seed (tests/conftest.py),
# so a mutant is killed or not the same way on every run.
pytest_add_cli_args_test_selection = ["tests/unit/"]
pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]
EOF

# The project's runtime and test dependencies (not the project itself: the copy is what runs).
python3 -c '
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
print("\n".join(project["dependencies"] + project["optional-dependencies"]["test"]))
' "$ROOT/pyproject.toml" >requirements.txt
if [ ! -x .venv/bin/mutmut ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install -q mutmut==3.8.1 -r requirements.txt
export PYTHONPATH="$WORK"
.venv/bin/mutmut run >mutmut-run.log 2>&1 || true
.venv/bin/mutmut results --all true >mutmut-results.txt
echo "work folder: $WORK (mutmut-results.txt: every mutant and its status;" \
    "'cd $WORK && PYTHONPATH=$WORK .venv/bin/mutmut show NAME' shows one)"
# Per module: generated, killed, timed out, survived (mutmut's statuses).
.venv/bin/python - <<'EOF'
import collections
import re

counts = collections.defaultdict(collections.Counter)
for line in open("mutmut-results.txt", encoding="utf-8"):
    found = re.match(r"\s*(readystack\.[\w.]+?)\.x.*__mutmut_\d+: (\w[\w ]*)", line)
    if found:
        module, status = found.groups()
        counts[module]["generated"] += 1
        counts[module][status.strip()] += 1
print(f"{'module':<34} generated killed timeout survived other")
for module, c in sorted(counts.items()):
    other = c["generated"] - c["killed"] - c["timeout"] - c["survived"]
    print(f"{module:<34} {c['generated']:9} {c['killed']:6} {c['timeout']:7} {c['survived']:8} {other:5}")
EOF
