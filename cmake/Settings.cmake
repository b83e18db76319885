# Compiler settings shared by every smtpsim target.
set(SMTPSIM_WARNING_FLAGS
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
    -Woverloaded-virtual -Wformat=2 -Wimplicit-fallthrough -Wmissing-declarations)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND SMTPSIM_WARNING_FLAGS -Wduplicated-cond -Wlogical-op)
endif()

# smtpsim_target_settings(<target>) applies the language level, warnings and sanitizers.
function(smtpsim_target_settings target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
  target_compile_options(${target} PRIVATE ${SMTPSIM_WARNING_FLAGS})
  if(SMTPSIM_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  target_compile_options(${target} PRIVATE ${SMTPSIM_SANITIZER_FLAGS})
  target_link_options(${target} PRIVATE ${SMTPSIM_SANITIZER_FLAGS})
endfunction()

# smtpsim_add_library(<name> SOURCES ... [DEPS ...]) adds smtpsim_<name> + alias smtpsim::<name>.
function(smtpsim_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(smtpsim_${name} STATIC ${ARG_SOURCES})
  add_library(smtpsim::${name} ALIAS smtpsim_${name})
  target_include_directories(smtpsim_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(smtpsim_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  smtpsim_target_settings(smtpsim_${name})
endfunction()
