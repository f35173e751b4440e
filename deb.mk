# deb.mk: Debian packages of both add-ons. Included by the top-level Makefile.
#
#   make deb        builds dist/splynx-integrapay_<v>_<arch>.deb and
#                   dist/splynx-ippay_<v>_<arch>.deb (installs the build
#                   dependencies through apt-get when they are missing)
#   make deb-check  builds, lints, installs, runs and purges both (.ci/deb-check)
#
# The build runs in a copy of the tree under dist/, because dpkg-buildpackage
# writes its results next to the source directory and leaves debian/ full of
# build state.

DEB_BUILD_DEPS := debhelper dpkg-dev fakeroot lintian
DEB_DIST := dist
DEB_WORK := $(DEB_DIST)/deb-build
DEB_SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: deb deb-deps deb-check

## deb-deps: install the Debian build dependencies through apt-get when missing
deb-deps:
	@missing=; for p in $(DEB_BUILD_DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "deb: installing build dependencies:$$missing"; \
		$(DEB_SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(DEB_SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

# The Go toolchain is the one on PATH; its caches are passed on so that the
# package build finds the modules offline and reuses compiled packages.
deb: export GOCACHE = $(shell go env GOCACHE)
deb: export GOMODCACHE = $(shell go env GOMODCACHE)
## deb: build dist/splynx-integrapay_*.deb and dist/splynx-ippay_*.deb
deb: deb-deps
	rm -rf $(DEB_WORK)
	mkdir -p $(DEB_WORK)/src
	tar --exclude=./$(DEB_DIST) --exclude=./.git --exclude=./bin --exclude='*.test' --exclude='*.db' --exclude='*.db-*' --exclude='*.prof' -cf - . | tar -xf - -C $(DEB_WORK)/src
	cd $(DEB_WORK)/src && dpkg-buildpackage -us -uc -b
	rm -f $(DEB_DIST)/splynx-integrapay_*.deb $(DEB_DIST)/splynx-ippay_*.deb
	mv $(DEB_WORK)/*.deb $(DEB_DIST)/
	rm -rf $(DEB_WORK)
	@ls -l $(DEB_DIST)/*.deb

## deb-check: build, lint, install, run against splynx-sim, upgrade, remove and purge both packages (root)
deb-check:
	.ci/deb-check
