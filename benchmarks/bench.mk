# flamediff's speed, guarded the way flamediff guards a user's: see the Performance section of README.md.
# Included by the Makefile, which defines BIN and STAMP.
BENCH_DATA := benchmarks/.data
# pyproject's addopts disable benchmarks for `make test`; these flags turn them back on, keep
# pytest's cache out of the tree, and save every round so the next run can test against it.
# CPU time, not wall time: on a shared machine other processes stretch wall time by tens of
# percent within seconds, which the rounds of one benchmark then all share.
BENCH_PYTEST := $(BIN)/python -m pytest benchmarks -q -p no:cacheprovider \
	--benchmark-enable --benchmark-timer=time.process_time --benchmark-min-rounds=10 \
	--benchmark-storage=$(BENCH_DATA)/history --benchmark-autosave --benchmark-save-data \
	--benchmark-columns=min,median,max,rounds
# FlameGraph's folder (difffolded.pl, flamegraph.pl) for the Perl anchor; without it that
# anchor is reported as unavailable.
FLAMEGRAPH_DIR ?=
# Runs of each step, the best counting: one run of a second or less is at the mercy of whatever
# else the machine is doing.
ANCHORS_REPEAT ?= 3
SELF_ARCHIVE := $(BENCH_DATA)/self-archive

.PHONY: bench-anchors machine-trial

bench: $(STAMP) ## benchmark parse/aggregate/statistics/render; fail on a significant >10% slowdown
	$(BENCH_PYTEST)
	$(BIN)/python -m benchmarks.compare

bench-anchors: $(STAMP) ## measure flamediff against difffolded.pl|flamegraph.pl and inferno, same input
	-$(BIN)/python -m pip install -q pyinferno
	$(BIN)/python -m benchmarks.anchors --repeat $(ANCHORS_REPEAT) \
		$(if $(FLAMEGRAPH_DIR),--flamegraph $(FLAMEGRAPH_DIR))

profile-self: $(STAMP) ## capture flamediff's own benchmark load with py-spy, diff it with the last
	$(BIN)/python -m benchmarks.load --prepare
	$(BIN)/flamediff capture self-$$(date -u +%Y%m%dT%H%M%SZ) --archive $(SELF_ARCHIVE) \
		-- $(BIN)/python -m benchmarks.load
	$(BIN)/flamediff diff --format markdown --svg $(BENCH_DATA)/profile-self.svg \
		--archive $(SELF_ARCHIVE) | tee $(BENCH_DATA)/profile-self.md

machine-trial: $(STAMP) ## real captures apart, a CPU hog beside one side: each normalisation against the truth
	$(BIN)/python -m benchmarks.machine.trial --runs $(DEMO_RUNS)
