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

function(demi_addon target)
  add_library(${target} SHARED ${ARGN} ${CMAKE_JS_SRC})
  set_target_properties(${target} PROPERTIES PREFIX "" SUFFIX ".node")
  target_include_directories(${target} PRIVATE ${CMAKE_JS_INC} ${DEMI_NODE_ADDON_API_DIR} ${DEMI_ADDON_INCLUDE_DIR})
  target_link_libraries(${target} PRIVATE ${CMAKE_JS_LIB})
  # C++ exceptions carry errors to JS as DemiError-shaped objects (demi/error.h
  # guards every entry point; _ALL is the last net for anything outside one).
  target_compile_definitions(${target} PRIVATE NAPI_VERSION=8 NAPI_CPP_EXCEPTIONS NODE_ADDON_API_CPP_EXCEPTIONS_ALL NODE_ADDON_API_DISABLE_DEPRECATED)
  target_compile_options(${target} PRIVATE -O2 -Wall -Wextra -fexceptions -fvisibility=hidden)
  if(MSVC AND CMAKE_JS_NODELIB_DEF AND CMAKE_JS_NODELIB_TARGET)
    execute_process(COMMAND ${CMAKE_AR} /def:${CMAKE_JS_NODELIB_DEF} /out:${CMAKE_JS_NODELIB_TARGET} ${CMAKE_STATIC_LINKER_FLAGS})
  endif()
endfunction()
