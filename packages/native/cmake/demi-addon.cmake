# Shared by every backend's CMakeLists.txt (at the package root):
#   include(<@demi/native>/cmake/demi-addon.cmake)  (resolved through node)
#   demi_addon(demi_catnap native/addon.cc ...)
# Builds a Node-API addon against the headers cmake-js found locally (the
# node-api-headers package): nothing is downloaded.
cmake_minimum_required(VERSION 3.15)
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE Release)
endif()

# Headers every addon shares (demi/errno_name.h, ...).
set(DEMI_ADDON_INCLUDE_DIR ${CMAKE_CURRENT_LIST_DIR}/../include)

execute_process(
  COMMAND node -p "require('node-addon-api').include_dir"
  WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR}
  OUTPUT_VARIABLE DEMI_NODE_ADDON_API_DIR
  OUTPUT_STRIP_TRAILING_WHITESPACE)

# libuv's headers, for addons that poll a descriptor in the event loop
# (napi_get_uv_event_loop): those of the Node running the build, which ships
# them beside its binary (include/node; npm's `node` package keeps them in its
# node-linux-<arch> dependency). libuv keeps its ABI within 1.x, so the addon
# runs on any Node of that major. Empty if none has them: then uv.h must be a
# system header (libuv1-dev).
execute_process(
  COMMAND node -p "const p = require('path'), fs = require('fs'), up = p.resolve(process.execPath, '..', '..'); [p.join(up, 'include/node'), p.join(up, 'node_modules/node-linux-' + process.arch, 'include/node'), '/usr/include/node'].find((d) => fs.existsSync(p.join(d, 'uv.h'))) ?? ''"
  OUTPUT_VARIABLE DEMI_NODE_INCLUDE_DIR
  OUTPUT_STRIP_TRAILING_WHITESPACE)

function(demi_addon target)
  add_library(${target} SHARED ${ARGN} ${CMAKE_JS_SRC})
  set_target_properties(${target} PROPERTIES PREFIX "" SUFFIX ".node")
  target_include_directories(${target} PRIVATE ${CMAKE_JS_INC} ${DEMI_NODE_ADDON_API_DIR} ${DEMI_ADDON_INCLUDE_DIR})
  if(DEMI_NODE_INCLUDE_DIR)
    # After the Node-API headers, so node-api-headers' copies win.
    target_include_directories(${target} SYSTEM AFTER PRIVATE ${DEMI_NODE_INCLUDE_DIR})
  endif()
  target_link_libraries(${target} PRIVATE ${CMAKE_JS_LIB})
  # C++ exceptions carry errors to JS as DemiError-shaped objects (demi/error.h
  # guards every entry point; _ALL is the last net for anything outside one).
  target_compile_definitions(${target} PRIVATE NAPI_VERSION=8 NAPI_CPP_EXCEPTIONS NODE_ADDON_API_CPP_EXCEPTIONS_ALL NODE_ADDON_API_DISABLE_DEPRECATED)
  target_compile_options(${target} PRIVATE -O2 -Wall -Wextra -fexceptions -fvisibility=hidden)
  if(MSVC AND CMAKE_JS_NODELIB_DEF AND CMAKE_JS_NODELIB_TARGET)
    execute_process(COMMAND ${CMAKE_AR} /def:${CMAKE_JS_NODELIB_DEF} /out:${CMAKE_JS_NODELIB_TARGET} ${CMAKE_STATIC_LINKER_FLAGS})
  endif()
endfunction()
