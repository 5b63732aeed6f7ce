// Where this build put p2pnode and the plugins, and where the sources are.
// Only build_paths.cpp is compiled with the real paths: every other test
// object is then the same whatever folder the checkout lives in, so ccache
// serves a fresh clone (CI's) from what an earlier build compiled.
#pragma once

namespace p2pnet::test {

const char* source_dir();
const char* binary_dir();
const char* p2pnode_path();
const char* stock_plugin_dir_path();
const char* test_plugin_dir_path();

}  // namespace p2pnet::test

#define P2PNET_SOURCE_DIR (::p2pnet::test::source_dir())
#define P2PNET_BINARY_DIR (::p2pnet::test::binary_dir())
#define P2PNODE_PATH (::p2pnet::test::p2pnode_path())
#define P2PNET_STOCK_PLUGIN_DIR (::p2pnet::test::stock_plugin_dir_path())
#define P2PNET_TEST_PLUGIN_DIR (::p2pnet::test::test_plugin_dir_path())
