# mgmt_add_test(NAME n SOURCES ... LIBS ... LABELS ... [TIMEOUT s])
# One Catch2 executable per test folder, linked with the shared Catch main; every TEST_CASE is
# registered with ctest by catch_discover_tests and carries the folder's labels (unit, golden,
# sim, cluster, compat), so `ctest -L sim` runs one tier. Hidden tags ([.soak]) are not
# registered; they run through their own command.
find_package(Catch2 2.13 REQUIRED)
include(Catch)

function(mgmt_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE mgmt_test_main ${T_LIBS})
  mgmt_strict_warnings(${T_NAME})
  # --warn NoTests: a registered name that matches no test case fails instead of passing
  # empty (a ';' in a Catch test name splits it in CMake's lists: nine tests once "passed" so
  # without running).
  catch_discover_tests(${T_NAME}
    TEST_PREFIX "${T_NAME}: "
    EXTRA_ARGS --warn NoTests
    PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
               ENVIRONMENT "MGMT_BINARY=${CMAKE_BINARY_DIR}/mgmt"
               ENVIRONMENT_MODIFICATION "MGMT_SOURCE_DIR=set:${PROJECT_SOURCE_DIR}")
endfunction()
