# python3: the interpreter make found (GITSEAL_PYTHON, the Makefile), not
# the version manager's shim python3 on PATH may be (pyenv's costs 0.45 s
# of CPU a start, its interpreter 0.08; limits.bats started it 34 times).
# Sourced by tests/helpers.bash and tests/git/helpers.bash.
if [ -n "${GITSEAL_PYTHON:-}" ]; then
	python3() { "$GITSEAL_PYTHON" "$@"; }
fi
