// Keeps a library non-empty while its directory has no sources yet.
namespace goperf { int cmake_placeholder_symbol = 0; }
