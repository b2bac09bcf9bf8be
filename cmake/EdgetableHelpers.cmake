# Helpers that give every module and test the same shape (STYLE.md, section 7).
#
#   edgetable_module(NAME storage SRCS a.cc b.cc DEPS edgetable::wire PRIVATE_DEPS SQLite::SQLite3)
#     -> static library edgetable_storage, alias edgetable::storage, includes rooted at the repo.
#   edgetable_test(NAME item_number_test SRCS tests/edge/item/number_test.cc DEPS edgetable::item)
#     -> a GoogleTest binary registered with ctest (under the cross emulator when cross-building).
#   edgetable_flatbuffers(NAME schemas SCHEMAS schemas/item.fbs ...)
#     -> INTERFACE target edgetable::<NAME> whose headers are "schemas/<x>_generated.h".

set(EDGETABLE_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wcast-align -Wunused -Woverloaded-virtual -Wformat=2 -Wimplicit-fallthrough)
if(EDGETABLE_WERROR)
  list(APPEND EDGETABLE_WARNINGS -Werror)
endif()
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  list(APPEND EDGETABLE_WARNINGS -Wthread-safety)
endif()

if(EDGETABLE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

function(edgetable_module)
  cmake_parse_arguments(M "" "NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  set(target edgetable_${M_NAME})
  if(M_SRCS)
    add_library(${target} STATIC ${M_SRCS})
    target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/gen)
    target_link_libraries(${target} PUBLIC ${M_DEPS} PRIVATE ${M_PRIVATE_DEPS})
    target_compile_options(${target} PRIVATE ${EDGETABLE_WARNINGS})
  else()
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/gen)
    target_link_libraries(${target} INTERFACE ${M_DEPS})
  endif()
  add_library(edgetable::${M_NAME} ALIAS ${target})
endfunction()

# Tests are labelled: "unit" (fast, pure), or what the caller says
# (integration, fault, sim). cross-test.sh runs the unit label under qemu.
function(edgetable_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS;ARGS" ${ARGN})
  add_executable(${T_NAME} ${T_SRCS})
  target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main Threads::Threads)
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/gen)
  target_compile_options(${T_NAME} PRIVATE ${EDGETABLE_WARNINGS})
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} ${T_ARGS})
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT})
endfunction()

function(edgetable_flatbuffers)
  cmake_parse_arguments(F "" "NAME" "SCHEMAS" ${ARGN})
  set(outputs)
  foreach(schema IN LISTS F_SCHEMAS)
    get_filename_component(base ${schema} NAME_WE)
    set(out ${PROJECT_BINARY_DIR}/gen/schemas/${base}_generated.h)
    add_custom_command(
      OUTPUT ${out}
      COMMAND ${FLATC_EXECUTABLE} --cpp --scoped-enums -o ${PROJECT_BINARY_DIR}/gen/schemas
              ${PROJECT_SOURCE_DIR}/${schema}
      DEPENDS ${PROJECT_SOURCE_DIR}/${schema}
      COMMENT "flatc ${schema}"
      VERBATIM)
    list(APPEND outputs ${out})
  endforeach()
  add_custom_target(edgetable_${F_NAME}_gen DEPENDS ${outputs})
  add_library(edgetable_${F_NAME} INTERFACE)
  add_dependencies(edgetable_${F_NAME} edgetable_${F_NAME}_gen)
  target_include_directories(edgetable_${F_NAME} INTERFACE ${PROJECT_BINARY_DIR}/gen)
  target_link_libraries(edgetable_${F_NAME} INTERFACE edgetable::flatbuffers_headers)
  add_library(edgetable::${F_NAME} ALIAS edgetable_${F_NAME})
endfunction()
