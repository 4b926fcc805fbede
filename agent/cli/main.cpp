// main.cpp: the mgmt binary. Everything happens in run_cli (agent/cli/dispatch.h).
#include "agent/cli/dispatch.h"

#include <iostream>
#include <string>
#include <vector>

int main(int argc, char* argv[]) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return mgmt::agent::cli::run_cli(args, std::cout, std::cerr);
}
