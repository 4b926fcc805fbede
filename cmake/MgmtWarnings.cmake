# mgmt_strict_warnings(TARGET): the warning set for our own code. Generated code (protobuf,
# gRPC) lives in its own targets and does not call this.
function(mgmt_strict_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wno-missing-field-initializers)
  if(MGMT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
