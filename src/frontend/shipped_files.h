#pragma once
// Where the files that come with mnist.cpp are (the models, the web demo, the MNIST data that
// scripts/fetch_data.sh puts beside them), seen from the running binary: next to a build
// folder inside the source tree (<tree>/build/mnist → <tree>/models), or installed
// (<prefix>/bin/mnist → <prefix>/share/mnistcpp/models).
#include <string>

namespace mn {

// The first of <exe>/../REL, <exe>/../share/mnistcpp/REL, <source tree>/REL that exists;
// the first of them when none does (so that an error names a sensible place).
std::string shipped_file(const std::string& rel);

// The web demo as scripts/build_web.sh builds it: <tree>/build-web/site, or
// <prefix>/share/mnistcpp/web once installed; "" when it has not been built.
std::string web_site_dir();

}  // namespace mn
