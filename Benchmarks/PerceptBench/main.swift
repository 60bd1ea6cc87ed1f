print("percept-bench: see Benchmarks/README")
