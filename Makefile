# engine-cleanup: build, install, demo and test.
PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     := $(PREFIX)/bin
PLUGINDIR  := $(PREFIX)/lib/engine-cleanup/plugins
LIBEXECDIR := $(PREFIX)/libexec/engine-cleanup
MANDIR     := $(PREFIX)/share/man/man8
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)
LDFLAGS    := -X github.com/engine-cleanup/engine-cleanup/internal/version.Version=$(VERSION) \
              -X main.packagedPluginDir=$(PLUGINDIR) -X main.libvirtPlugin=$(LIBEXECDIR)/engine-cleanup-libvirt

.PHONY: all build demo test install generate bench clean

all: build

build:
	go build -ldflags '$(LDFLAGS)' -o bin/engine-cleanup ./cmd/engine-cleanup
	go build -tags libvirt_dlopen -ldflags '$(LDFLAGS)' -o bin/engine-cleanup-libvirt ./cmd/engine-cleanup-libvirt
	go build -o bin/engine-cleanup-plugin-example ./examples/engine-cleanup-plugin-example

# The README's first command.
demo:
	scripts/demo.sh

# The README's second command; .ci/run runs exactly this.
test:
	scripts/test.sh

install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 bin/engine-cleanup $(DESTDIR)$(BINDIR)/engine-cleanup
	install -m 0755 bin/engine-cleanup-libvirt $(DESTDIR)$(LIBEXECDIR)/engine-cleanup-libvirt
	install -m 0644 docs/engine-cleanup.8 $(DESTDIR)$(MANDIR)/engine-cleanup.8

generate:
	scripts/genproto.sh

bench:
	scripts/bench.sh

clean:
	rm -rf bin
