# Only the host-side steps of the makefile mcconfig generates for an ESP32: xsc and xsid compile
# every module, xsl links the preloads (running their module bodies) into mc.xs.c, mcrez packs
# the resources. The ESP-IDF compile and link that follow on a real build need Espressif's
# toolchain. Usage: make -f <generated makefile> -f xsonly.mk xsonly IDF_VERSION=v6.0
xsonly: $(MODULES) $(DATA) $(RESOURCES)
	xsl -b $(MODULES_DIR) -o $(TMP_DIR) $(PRELOADS) $(STRIPS) $(CREATION) $(MODULES)
	mcrez $(DATA) $(RESOURCES) -o $(TMP_DIR) -p $(ESP32_SUBCLASS) -r mc.resources.c

# the compiler settings the generated makefile uses for the app's own C files
ccvars:
	@echo 'C_DEFINES=$(C_DEFINES)'
	@echo 'C_FLAGS=$(C_FLAGS)'
	@echo 'C_INCLUDES=$(C_INCLUDES)'
