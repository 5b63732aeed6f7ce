#include "build_paths.hpp"

namespace p2pnet::test {

const char* source_dir() { return P2PNET_BUILD_SOURCE_DIR; }
const char* binary_dir() { return P2PNET_BUILD_BINARY_DIR; }
const char* p2pnode_path() { return P2PNET_BUILD_P2PNODE_PATH; }
const char* stock_plugin_dir_path() { return P2PNET_BUILD_STOCK_PLUGIN_DIR; }
const char* test_plugin_dir_path() { return P2PNET_BUILD_TEST_PLUGIN_DIR; }

}  // namespace p2pnet::test
