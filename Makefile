# The two commands a fresh machine needs:
#   make demo   bootstrap, release build, run the end-to-end demo on the embedded dataset
#   make test   bootstrap, build, run every test
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)
SWIFT ?= swift
DEMO_OUT ?= demo-output

.PHONY: demo test bootstrap build release bench clean

bootstrap:
	@scripts/bootstrap

build: bootstrap
	$(SWIFT) build

release: bootstrap
	$(SWIFT) build -c release

demo: release
	$(SWIFT) run -c release --skip-build percept demo --output $(DEMO_OUT)

test:
	@scripts/bootstrap --test
	scripts/test

bench: release
	Benchmarks/run.sh

clean:
	rm -rf .build
