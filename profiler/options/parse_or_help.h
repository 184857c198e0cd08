// The one parse step every command's options share: store the command line into a variables_map, run
// its notifiers, and answer --help with the visible options.
#pragma once

#include <boost/program_options.hpp>

#include <string>
#include <vector>

namespace goperf::profiler {

// Parses args against `all` (visible and hidden options, positionals by `positional` when given) into vm.
// With --help it prints `shown` to stdout and returns false: the caller returns without running anything.
// Throws boost::program_options::error on bad input, as every command reports it.
bool parse_or_help(const std::vector<std::string>& args, const boost::program_options::options_description& all,
                   const boost::program_options::options_description& shown,
                   const boost::program_options::positional_options_description* positional,
                   boost::program_options::variables_map& vm);

}  // namespace goperf::profiler
