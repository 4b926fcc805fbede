# mgmt_add_subdirs(DIR): add every immediate subfolder of DIR that has a CMakeLists.txt,
# in alphabetical order, then DIR/CMakeLists.txt itself if it has one. Modules that are not
# written yet are simply absent; nothing here needs editing when a module lands.
function(mgmt_add_subdirs dir)
  set(base ${CMAKE_CURRENT_SOURCE_DIR}/${dir})
  if(EXISTS ${base}/CMakeLists.txt)
    add_subdirectory(${dir})
    return()
  endif()
  file(GLOB children LIST_DIRECTORIES true RELATIVE ${base} ${base}/*)
  list(SORT children)
  foreach(child IN LISTS children)
    if(IS_DIRECTORY ${base}/${child} AND EXISTS ${base}/${child}/CMakeLists.txt)
      add_subdirectory(${dir}/${child})
    endif()
  endforeach()
endfunction()
