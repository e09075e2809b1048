// The JSON form of Grafana's `Dashboard` type (@grafana/schema), for type-checking dashboard JSON files.
//
// A dashboard file holds an enum member as its value: "absolute", not ThresholdsMode.Absolute. TypeScript's
// string enums are nominal, so a string literal is never assignable to one; JsonOf<T> replaces each string
// enum by the union of its values (`${E}`) and leaves every other type as it is. Object types are mapped
// homomorphically, so optional and required keys stay as declared and excess-property checks still apply.
// Numeric enums stay: a number literal that is a member's value is assignable to them.
//
// The schema types a panel's `options` and `fieldConfig.defaults.custom` as open records; each panel plugin
// declares them in its own panelcfg kind (raw/composable/<plugin>/panelcfg). DashboardJson narrows `panels`
// to the plugins obsgen uses, each with its own options and custom field config, discriminated by `type`:
// a panel of any other type is an error until its plugin is added to PanelJson below. (The package exports
// these files without their .d.ts suffix, which TypeScript cannot resolve; hence the relative paths.)
import type { Dashboard, FieldConfig, FieldConfigSource, Panel, RowPanel } from "@grafana/schema";
import type * as gauge from "./node_modules/@grafana/schema/dist/types/raw/composable/gauge/panelcfg/x/GaugePanelCfg_types.gen";
import type * as logs from "./node_modules/@grafana/schema/dist/types/raw/composable/logs/panelcfg/x/LogsPanelCfg_types.gen";
import type * as nodeGraph from "./node_modules/@grafana/schema/dist/types/raw/composable/nodegraph/panelcfg/x/NodeGraphPanelCfg_types.gen";
import type * as stat from "./node_modules/@grafana/schema/dist/types/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen";
import type * as table from "./node_modules/@grafana/schema/dist/types/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen";
import type * as timeseries from "./node_modules/@grafana/schema/dist/types/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen";

export type JsonOf<T> =
  T extends string ? `${T}` :
  T extends number | boolean | null | undefined ? T :
  T extends ReadonlyArray<infer U> ? Array<JsonOf<U>> :
  T extends object ? { [K in keyof T]: JsonOf<T[K]> } :
  T;

// Every key optional, at every depth, types and excess-property checks kept. Grafana merges a panel's saved
// options and custom field config over its plugin's defaults when it loads the panel
// (getPanelOptionsWithDefaults, public/app/features/dashboard/state/getPanelOptionsWithDefaults.ts), so a
// key the plugin's kind marks required may be left out of a file; a key it does not declare, or a value of
// the wrong type, is still an error.
export type Defaulted<T> =
  T extends string | number | boolean | null | undefined ? T :
  T extends ReadonlyArray<infer U> ? Array<Defaulted<U>> :
  T extends object ? { [K in keyof T]?: Defaulted<T[K]> } :
  T;

// A panel of plugin `Type` with the plugin's `Options` and custom field config `Custom`. A plugin without
// custom field config (stat, gauge, nodeGraph, logs) may still carry the empty `custom: {}` Grafana writes.
type PluginPanel<Type extends string, Options, Custom> = Omit<JsonOf<Panel>, "type" | "options" | "fieldConfig"> & {
  type: Type;
  options?: Defaulted<JsonOf<Options>>;
  fieldConfig?: JsonOf<Omit<FieldConfigSource, "defaults">> & {
    defaults: JsonOf<Omit<FieldConfig, "custom">> & { custom?: Defaulted<JsonOf<Custom>> };
  };
};

export type PanelJson =
  | PluginPanel<"timeseries", timeseries.Options, timeseries.FieldConfig>
  | PluginPanel<"stat", stat.Options, Record<string, never>>
  | PluginPanel<"gauge", gauge.Options, Record<string, never>>
  | PluginPanel<"table", table.Options, table.FieldConfig>
  | PluginPanel<"nodeGraph", nodeGraph.Options, Record<string, never>>
  | PluginPanel<"logs", logs.Options, Record<string, never>>;

export type RowPanelJson = JsonOf<Omit<RowPanel, "panels">> & { panels: PanelJson[] };

export type DashboardJson = JsonOf<Omit<Dashboard, "panels">> & { panels?: Array<PanelJson | RowPanelJson> };
