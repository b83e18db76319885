# smtpsim_add_test(<name> SOURCES ... [LIBS ...] [LABELS ...] [TIMEOUT seconds]) builds one
# GoogleTest executable and registers its tests with ctest (each test bounded by TIMEOUT, default
# 300 s). A new test suite is one line.
function(smtpsim_add_test name)
  if(NOT SMTPSIM_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  smtpsim_target_settings(${name})
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "SMTPSIM_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()

# smtpsim_add_expectation_tests(<label> <script> <data dir>) registers one ctest per
# <data dir>/*.json, named <label>.<file name>: `sh <script> --smtpsim <smtpsim> <file name>`
# compares a real peer's verdicts with that committed expectation file. The tests share one
# resource lock (the peers use fixed resources and much CPU) and exit 77 to be SKIPped.
function(smtpsim_add_expectation_tests label script data_dir)
  if(NOT SMTPSIM_BUILD_TESTS)
    return()
  endif()
  file(GLOB files CONFIGURE_DEPENDS ${data_dir}/*.json)
  foreach(file IN LISTS files)
    get_filename_component(name ${file} NAME_WE)
    add_test(NAME ${label}.${name} COMMAND sh ${script} --smtpsim $<TARGET_FILE:smtpsim> ${name})
    set_tests_properties(${label}.${name} PROPERTIES LABELS ${label} TIMEOUT 900
                         SKIP_RETURN_CODE 77 RESOURCE_LOCK ${label})
  endforeach()
endfunction()
