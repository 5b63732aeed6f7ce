#include "file_names.hpp"

#include <p2pnet/printable.hpp>

namespace p2pnet::download {

std::string name_refusal(std::string_view name) {
  auto found = first_unprintable(name);
  return found.kind == Unprintable::none ? "" : "it " + describe(found);
}

}  // namespace p2pnet::download
