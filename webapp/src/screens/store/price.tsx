/** "4 credits", "3 credits / second", "3 credits each": the tenant's price for one unit. */

import type { ToolOut } from "../../api/types";
import { useI18n } from "../../i18n";

export function PriceTag({ tool }: { tool: ToolOut }) {
  const { t, number } = useI18n();
  const amount = number(tool.price);
  const text =
    tool.pricing_model === "per_second"
      ? t("price.per_second", { amount })
      : tool.pricing_model === "per_unit"
        ? t("price.per_unit", { amount })
        : t("price.per_use", { amount });
  return <span className="price">{text}</span>;
}
