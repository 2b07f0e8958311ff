# web.cmake - the HTML report's page: web/ (our source + npm libraries pinned by package-lock.json)
# bundled by esbuild into a generated C file of bytes (LL_HTML_ASSETS_C) that the report layer embeds.
# `make deps` installs web/node_modules (npm ci); a tree configured without them installs them here.
find_program(LL_NODE node)
find_program(LL_NPM npm)
set(LL_WEB_DIR ${PROJECT_SOURCE_DIR}/web)
if(NOT LL_NODE)
  message(FATAL_ERROR "node is missing: the HTML report's page is built with it; run 'make deps'")
endif()
if(NOT EXISTS ${LL_WEB_DIR}/node_modules/.package-lock.json)
  if(NOT LL_NPM)
    message(FATAL_ERROR "web/node_modules and npm are missing: run 'make deps'")
  endif()
  message(STATUS "web/node_modules is missing: npm ci (what 'make deps' does)")
  execute_process(COMMAND ${LL_NPM} ci --no-audit --no-fund
    WORKING_DIRECTORY ${LL_WEB_DIR} RESULT_VARIABLE rc OUTPUT_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "npm ci in web/ failed: run 'make deps'")
  endif()
endif()

set(LL_HTML_ASSETS_C ${PROJECT_BINARY_DIR}/generated/html_assets.c)
file(GLOB LL_WEB_SOURCES CONFIGURE_DEPENDS ${LL_WEB_DIR}/src/*)
add_custom_command(OUTPUT ${LL_HTML_ASSETS_C}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/generated
  COMMAND ${LL_NODE} ${LL_WEB_DIR}/build.mjs ${LL_HTML_ASSETS_C}
  DEPENDS ${LL_WEB_SOURCES} ${LL_WEB_DIR}/build.mjs ${LL_WEB_DIR}/package-lock.json
          ${LL_WEB_DIR}/node_modules/.package-lock.json
  COMMENT "Bundling the HTML report page (web/) into html_assets.c"
  VERBATIM)
# One rule for every library that compiles the file (two targets owning the command would run
# it twice at once under make).
add_custom_target(leaklab_web DEPENDS ${LL_HTML_ASSETS_C})
