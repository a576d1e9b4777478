// Overloaded{lambdas...}: the usual helper for std::visit over a variant.
#pragma once

namespace tandem {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace tandem
