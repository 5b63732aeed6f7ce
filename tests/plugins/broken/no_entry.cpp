// A shared library without the p2pnet entry point.
extern "C" __attribute__((visibility("default"))) int not_a_plugin() { return 42; }
