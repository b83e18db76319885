#include "simulator/protocol/command.hpp"
