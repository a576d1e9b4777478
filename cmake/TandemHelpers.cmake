# With TANDEM_UNITY, `target` compiles in batches of 8 sources unless the
# caller passed NO_UNITY (files that each define the same private names, such
# as one Run and one kDef per tool).
function(tandem_unity target no_unity)
  if(TANDEM_UNITY AND NOT no_unity)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
  endif()
endfunction()

# tandem_library(NAME [NO_UNITY] SOURCES a.cc b.cc DEPS other_lib ...)
# Declares library tandem_<NAME>; includes are rooted at src/ ("tandem/x/y.h").
function(tandem_library name)
  cmake_parse_arguments(ARG "NO_UNITY" "" "SOURCES;DEPS" ${ARGN})
  add_library(tandem_${name} STATIC ${ARG_SOURCES})
  tandem_unity(tandem_${name} "${ARG_NO_UNITY}")
  target_include_directories(tandem_${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(tandem_${name} PUBLIC ${ARG_DEPS})
endfunction()

# tandem_test(NAME [NO_UNITY] SOURCES a_test.cc DEPS lib ...)
# One GoogleTest binary per module, registered with CTest.
function(tandem_test name)
  cmake_parse_arguments(ARG "NO_UNITY" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  tandem_unity(${name} "${ARG_NO_UNITY}")
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR})
  target_compile_definitions(${name} PRIVATE
    TANDEM_BINARY_DIR="${CMAKE_BINARY_DIR}" TANDEM_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES TIMEOUT 600)
endfunction()
