bench: $(STAMP) ## run the benchmarks and compare with the last run on this machine
	@echo "no benchmarks yet"
