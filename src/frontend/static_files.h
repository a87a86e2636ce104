#pragma once
// Files served from a folder, never from outside it: the request path is percent-decoded
// already (by the HTTP layer, once), then refused if any of its segments is "..", "." or
// empty, or it holds a backslash or a NUL; the file it names is resolved with realpath (every
// symlink followed) and served only if that lies inside the folder's own real path.
#include <string>

namespace mn {

// The real path of the regular file under `root` that `rel` (segments separated by '/')
// names, or "" when there is none or it would leave `root`.
std::string resolve_in(const std::string& root, const std::string& rel);

// "text/html; charset=utf-8", "image/png", ... by extension; application/octet-stream else.
std::string content_type_for(const std::string& path);

}  // namespace mn
