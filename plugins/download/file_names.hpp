// Names that come from other nodes (search results) or the console and end up
// as a file name on this disk or on a terminal. A name that would hide what it
// is (terminal controls, bidirectional overrides such as U+202E that show
// "exe.txt" for "txt.exe") is refused rather than cleaned up, and printed only
// escaped.
#pragma once

#include <string>
#include <string_view>

namespace p2pnet::download {

// Why `name` cannot be saved as it is ("" if it can): a C0 or C1 control
// character, DEL, a bidirectional embedding, override or isolate
// (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C), or bytes that are
// not UTF-8. p2pnet::printable() shows such a name escaped.
std::string name_refusal(std::string_view name);

}  // namespace p2pnet::download
