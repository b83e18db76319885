# smtpsim_add_test(<name> SOURCES ... [LIBS ...] [LABELS ...]) builds one GoogleTest executable
# and registers its tests with ctest. A new test suite is one line.
function(smtpsim_add_test name)
  if(NOT SMTPSIM_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  smtpsim_target_settings(${name})
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 300
    ENVIRONMENT "SMTPSIM_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()
