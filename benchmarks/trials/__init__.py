"""Real-library trials: flamediff against timeit, cProfile and the source diff (`make trials`)."""
