# Every third-party library, found once, all from Debian 12 packages (tools/setup.sh installs
# them). Targets below are the only names module CMakeLists should link against.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS system)
find_package(Protobuf 3.21 REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(RocksDB CONFIG REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(yaml-cpp CONFIG REQUIRED)
find_package(tl-expected CONFIG REQUIRED)
# OpenSSL (libssl-dev) for SHA-256: the digest etcdctl expects at the end of a snapshot.
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
pkg_check_modules(LIBGIT2 REQUIRED IMPORTED_TARGET libgit2)
pkg_check_modules(LIBSYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
# nghttp2 (libnghttp2-dev): HTTP/2 for the store's own gRPC server (store/rpc/rpc_server.h).
pkg_check_modules(NGHTTP2 REQUIRED IMPORTED_TARGET libnghttp2)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
# jemalloc (libjemalloc-dev) as the daemon's allocator, as RocksDB recommends: gRPC, protobuf
# and RocksDB allocate on every message from a dozen threads, and glibc's malloc cost about 8%
# of a loaded member's CPU (tools/bench-store.sh: 7-20% more puts/s with 3 members). Not with
# the sanitizers or fuzzers, which bring their own allocator.
pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
