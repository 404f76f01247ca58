namespace LuaActors.TestKit.Sample;

/// <summary>The application's Lua module under test: pricing rules its operators edit.</summary>
public static class PricingRules
{
    public const string Lua = """
        local tiers = { gold = 0.2, silver = 0.1 }
        local quotes = 0

        -- The price after the tier's discount (a float); an unknown tier pays full price.
        function price(total, tier)
          if type(total) ~= "number" then
            error("total must be a number, got " .. type(total), 2)
          end
          quotes = quotes + 1
          -- 1.0, not 1: a price is a float even with no discount (100 * (1 - 0) is the integer 100).
          return total * (1.0 - (tiers[tier] or 0))
        end

        -- Loyalty points: one per whole 10 spent (an integer).
        function points(total)
          return total // 10
        end

        function quotes_made() return quotes end

        function tier_names()
          local names = {}
          for name in pairs(tiers) do names[#names + 1] = name end
          table.sort(names)
          return names
        end

        -- A rule with a bug: it never ends.
        function recompute_forever()
          while true do end
        end
        """;
}
