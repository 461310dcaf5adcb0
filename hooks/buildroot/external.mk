################################################################################
#
# timesys-ci: `make timesys-ci-check` uploads this build's manifest and gates it.
# Run it after `make`; it does the same as post-image.sh.
#
################################################################################

TIMESYS_CI_ON_FAILURE ?= fail

.PHONY: timesys-ci-check
timesys-ci-check:
	@$(call MESSAGE,"Running timesys-ci check")
	$(Q)BR2_CONFIG="$(BR2_CONFIG)" BASE_DIR="$(BASE_DIR)" O="$(BASE_DIR)" \
		BUILD_DIR="$(BUILD_DIR)" BINARIES_DIR="$(BINARIES_DIR)" \
		TARGET_DIR="$(TARGET_DIR)" HOST_DIR="$(HOST_DIR)" \
		TIMESYS_CI_ON_FAILURE="$(TIMESYS_CI_ON_FAILURE)" \
		$(BR2_EXTERNAL_TIMESYS_CI_PATH)/post-image.sh "$(BINARIES_DIR)"
