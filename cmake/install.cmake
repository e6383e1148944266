# `cmake --install build --prefix P` puts cfgan where other programs find it:
#   P/lib/libcfgan_*.a                 the static libraries
#   P/include/cfgan/{engine,models,kernels}/...   the headers (engine/engine.h and
#                                      models/models.h are the stable API)
#   P/lib/cmake/cfgan/                 find_package(cfgan) -> cfgan::cfgan
#   P/lib/pkgconfig/cfgan.pc           pkg-config --cflags --libs cfgan
#   P/bin/                             the programs, when built
include(CMakePackageConfigHelpers)

set(CFGAN_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/cfgan)
set(cfgan_exported cfgan cfgan_flags cfgan_models cfgan_engine cfgan_kernels_cpu)
if(CFGAN_WITH_CUDA)
  list(APPEND cfgan_exported cfgan_kernels_cuda)
endif()
install(TARGETS ${cfgan_exported} EXPORT cfganTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT cfganTargets NAMESPACE cfgan:: DESTINATION ${CFGAN_INSTALL_CMAKEDIR})
install(DIRECTORY engine models kernels DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cfgan
        FILES_MATCHING PATTERN "*.h" PATTERN "*.cuh"
        PATTERN "emu" EXCLUDE)

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/cfganConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/cfganConfig.cmake
                              INSTALL_DESTINATION ${CFGAN_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cfganConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cfganConfig.cmake ${PROJECT_BINARY_DIR}/cfganConfigVersion.cmake
        DESTINATION ${CFGAN_INSTALL_CMAKEDIR})

# pkg-config: the same libraries in link order, then what they need from the system.
set(CFGAN_PC_LIBS "-lcfgan_models -lcfgan_engine -lcfgan_kernels_cpu")
set(CFGAN_PC_SYSTEM_LIBS "-fopenmp -lz")
if(CFGAN_WITH_CUDA)
  string(APPEND CFGAN_PC_LIBS " -lcfgan_kernels_cuda")
  get_filename_component(cfgan_cudnn_dir ${CUDNN_LIBRARY} DIRECTORY)
  set(cfgan_cuda_dirs ${CUDAToolkit_LIBRARY_DIR} ${cfgan_cudnn_dir})
  list(REMOVE_DUPLICATES cfgan_cuda_dirs)
  foreach(dir IN LISTS cfgan_cuda_dirs)
    string(APPEND CFGAN_PC_SYSTEM_LIBS " -L${dir} -Wl,-rpath,${dir}")
  endforeach()
  string(APPEND CFGAN_PC_SYSTEM_LIBS " -lcublas -lcudnn -lcudart")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/cfgan.pc.in ${PROJECT_BINARY_DIR}/cfgan.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cfgan.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
