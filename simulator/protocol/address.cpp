#include "simulator/protocol/address.hpp"
