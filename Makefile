# Makefile for syscope.
#
#   make build   build bin/syscope
#   make test    gofmt check, go vet, staticcheck, race tests, short fuzz run
#   make bench   compare wall time / peak RSS against the real sysdig
#   make demo    capture seed 000's DNS scenario live and show it (or read the shipped capture)
#   make generate  rebuild the eBPF object (clang, bpftool)
#   make image   the syscope container image kubectl-capture runs, as a
#                docker-archive tar (bin/syscope-image.tar); no Docker, no registry
#   make kubectl-capture  build bin/kubectl-capture (the kubectl plugin)
#   make lab-up / lab-down / lab-status  the runtime + Kubernetes lab (root; test/lab/k8s/lab.sh)
#   make clean   remove build output
#
# Tools can be overridden from the command line, e.g.
#   make test GO=/usr/local/go/bin/go STATICCHECK=$HOME/go/bin/staticcheck

GO          ?= go
GOFMT       ?= gofmt
STATICCHECK ?= staticcheck

BIN      := bin/syscope
# A count, not a duration: with -fuzztime=20s, Go 1.26 can fail a clean run with
# "context deadline exceeded" at the deadline (golang/go#75804, fixed in 1.27).
FUZZTIME ?= 300000x

.PHONY: image kubectl-capture krew
.PHONY: all build test fmt-check vet staticcheck test-race fuzz bench bench-live demo generate clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/syscope

test: fmt-check vet staticcheck test-race fuzz

# The image of kubectl-capture's capture pods: a static syscope (no libc, so
# any node runs it) in a one-layer image, written as a docker-archive tar by
# internal/mkimage. Load it where the capture pods run:
#   ctr -n k8s.io images import bin/syscope-image.tar   (containerd)
#   docker load -i bin/syscope-image.tar                (Docker)
# or push it to a registry and give kubectl capture --image.
IMAGE     ?= docker.io/syscope/syscope:dev
IMAGE_TAR ?= bin/syscope-image.tar

image:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o bin/image/syscope ./cmd/syscope
	$(GO) run ./internal/mkimage -tag $(IMAGE) -o $(IMAGE_TAR) bin/image/syscope

kubectl-capture:
	$(GO) build -o bin/kubectl-capture ./cmd/kubectl-capture

# krew archives of the plugin and the manifest for them (plugins/capture.yaml
# filled in). KREW_URI is where the archives will be downloaded from.
KREW_VERSION ?= v0.1.0
KREW_URI     ?= https://github.com/syscope/syscope/releases/download/$(KREW_VERSION)
KREW_TARGETS := linux_amd64 linux_arm64 darwin_amd64 darwin_arm64

krew:
	@mkdir -p bin/krew
	@sed -e 's#@VERSION@#$(KREW_VERSION)#' -e 's#@URI@#$(KREW_URI)#' plugins/capture.yaml > bin/krew/capture.yaml
	@set -e; for t in $(KREW_TARGETS); do \
		d=bin/krew/$$t; mkdir -p $$d; \
		CGO_ENABLED=0 GOOS=$${t%_*} GOARCH=$${t#*_} $(GO) build -trimpath -ldflags '-s -w' -o $$d/kubectl-capture ./cmd/kubectl-capture; \
		cp LICENSE $$d/; \
		tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=2020-01-01 -C $$d -czf bin/krew/kubectl-capture_$$t.tar.gz kubectl-capture LICENSE; \
		sum=$$(sha256sum bin/krew/kubectl-capture_$$t.tar.gz | cut -d' ' -f1); \
		sed -i "s#@SHA256_$$t@#$$sum#" bin/krew/capture.yaml; \
		echo "bin/krew/kubectl-capture_$$t.tar.gz $$sum"; \
	done

# Fails (and lists the files) when any .go file is not gofmt-formatted.
# testdata/ is skipped: it may hold deliberately odd inputs.
fmt-check:
	@echo '>> gofmt -l'
	@out="$$(find . -type f -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -not -path './vendor/*' -print0 | xargs -0 -r $(GOFMT) -l)"; \
	if [ -n "$$out" ]; then \
		echo 'These files are not gofmt-formatted (run gofmt -w):'; \
		echo "$$out"; \
		exit 1; \
	fi

vet:
	$(GO) vet ./...

staticcheck:
	@command -v $(STATICCHECK) >/dev/null 2>&1 || { \
		echo 'staticcheck not found; install it with:'; \
		echo '  go install honnef.co/go/tools/cmd/staticcheck@v0.8.2'; \
		echo 'and put $$(go env GOPATH)/bin on PATH'; \
		exit 1; }
	$(STATICCHECK) ./...

test-race:
	$(GO) test -race -count=1 -timeout 30m ./...

# Short fuzz runs of scap.FuzzReader, filter.FuzzCompile and probe.FuzzRings.
# `go test -fuzz` exits 0 with only a warning when no fuzz test matches, so
# check first that FuzzReader exists.
fuzz:
	@list="$$($(GO) test -list '^FuzzReader$$' ./scap/ 2>&1)" || { \
		echo "$$list"; echo 'fuzz: cannot list the tests of ./scap/'; exit 1; }; \
	echo "$$list" | grep -qx 'FuzzReader' || { \
		echo 'fuzz: FuzzReader not found in package ./scap/ (func FuzzReader(f *testing.F) is required)'; \
		exit 1; }
	$(GO) test -run=NONE -fuzz='^FuzzReader$$' -fuzztime=$(FUZZTIME) ./scap/
	$(GO) test -run=NONE -fuzz='^FuzzCompile$$' -fuzztime=$(FUZZTIME) ./filter/
	$(GO) test -run=NONE -fuzz='^FuzzRings$$' -fuzztime=$(FUZZTIME) ./probe/

bench:
	bash bench/compare.sh

# What live capture costs (root): syscall overhead, HTTP throughput, events/s, drops.
bench-live:
	bash bench/live.sh

# The demo captures seed 000's DNS scenario live (test/lab/dns-lab.sh: network
# namespaces, a Kubernetes-style search list, an upstream that ignores
# .localdomain), then shows what the capture holds. Where live capture cannot
# run (not root, no BTF, no eBPF), it says why and reads the capture of the same
# lab that the project recorded and ships (test/lab/testdata/dns-lab.scap.gz).
DEMO_DIR     ?= /tmp/syscope-demo
DEMO_CAPTURE  = $(DEMO_DIR)/dns-lab.scap
DEMO_SHIPPED  = test/lab/testdata/dns-lab.scap.gz
DEMO_QUERIES  = proc.name=getent and evt.type in (sendto, recvfrom) and evt.dir=< and fd.sport=53

demo: build
	@mkdir -p $(DEMO_DIR)
	@if ./$(BIN) --check-live >/dev/null 2>$(DEMO_DIR)/why; then \
		echo '== live capture: seed 000, a DNS lookup from a pod-like client that hangs'; \
		$(GO) build -o $(DEMO_DIR)/dnsd ./test/lab/dnsd; \
		DNSD=$(DEMO_DIR)/dnsd LAB_DIR=$(DEMO_DIR)/lab test/lab/dns-lab.sh up; \
		./$(BIN) -s8192 -w $(DEMO_CAPTURE) 2>$(DEMO_DIR)/capture.log & pid=$$!; \
		for i in $$(seq 100); do grep -q capturing $(DEMO_DIR)/capture.log && break; sleep 0.1; done; \
		DNSD=$(DEMO_DIR)/dnsd LAB_DIR=$(DEMO_DIR)/lab test/lab/dns-lab.sh resolve api.example.org; \
		kill -INT $$pid; wait $$pid; \
		DNSD=$(DEMO_DIR)/dnsd LAB_DIR=$(DEMO_DIR)/lab test/lab/dns-lab.sh down; \
		ls -l $(DEMO_CAPTURE); \
	else \
		echo "== live capture is not possible here: $$(cat $(DEMO_DIR)/why)"; \
		echo '== reading the capture of the same lab that syscope recorded and ships instead'; \
		cp $(DEMO_SHIPPED) $(DEMO_CAPTURE).gz && rm -f $(DEMO_CAPTURE) && gunzip $(DEMO_CAPTURE).gz; \
	fi
	@echo '== every query the resolver sent, with its answer: the search list expands the name'
	@echo '   three times (NXDOMAIN), then .localdomain gets no answer for the resolver timeout'
	TZ=UTC ./$(BIN) -r $(DEMO_CAPTURE) -p '%evt.time %evt.type %fd.name %evt.buffer' '$(DEMO_QUERIES)'
	@echo '== the same, as the time each query waited (evt.latency of the pair, in ns)'
	TZ=UTC ./$(BIN) -r $(DEMO_CAPTURE) -p '%evt.time %evt.latency %evt.type' 'proc.name=getent and evt.type in (poll,ppoll) and evt.dir=<'
	@echo '== the resolv.conf the client read'
	TZ=UTC ./$(BIN) -r $(DEMO_CAPTURE) -A -p '%evt.buffer' 'proc.name=getent and evt.type=read and fd.name=/etc/resolv.conf and evt.dir=< and evt.rawres>0'
	@echo '== a mistyped filter is refused before reading, with the place and a hint'
	./$(BIN) -r $(DEMO_CAPTURE) 'proc.name=getent and fd.typ=ipv4' || echo '(exit status' $$? 'as expected)'

# Regenerate the eBPF object and its Go bindings (committed, so that go build
# needs no clang). Needs clang, llvm, libbpf-dev and bpftool.
generate:
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > probe/bpf/vmlinux.h
	cd probe && $(GO) generate ./

# The runtime + Kubernetes lab that the container and Kubernetes tests use
# (root): containerd, dockerd, etcd and a single-node Kubernetes v1.34.4 with
# registry-free images. lab-up starts what is not running (the first time it
# also installs apt packages and builds the Kubernetes binaries from the Go
# module proxy, about 10 minutes, cached in /var/tmp/syscope-lab); lab-down
# stops it all and removes what it left on the host.
.PHONY: lab-up lab-down lab-status
lab-up:
	GO=$(GO) bash test/lab/k8s/lab.sh up
lab-down:
	bash test/lab/k8s/lab.sh down
lab-status:
	bash test/lab/k8s/lab.sh status

clean:
	rm -rf bin/
	find . -name '*.test' -type f -not -path './.git/*' -delete
