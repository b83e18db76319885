#include "simulator/protocol/data.hpp"
