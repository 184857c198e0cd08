// parse_or_help (parse_or_help.h).
#include "profiler/options/parse_or_help.h"

#include <iostream>

namespace goperf::profiler {

namespace po = boost::program_options;

bool parse_or_help(const std::vector<std::string>& args, const po::options_description& all,
                   const po::options_description& shown, const po::positional_options_description* positional,
                   po::variables_map& vm) {
  po::command_line_parser parser(args);
  parser.options(all);
  if (positional) parser.positional(*positional);
  po::store(parser.run(), vm);
  po::notify(vm);
  if (!vm.count("help")) return true;
  std::cout << shown << "\n";
  return false;
}

}  // namespace goperf::profiler
