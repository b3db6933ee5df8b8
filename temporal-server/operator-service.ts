/**
 * temporal.api.operatorservice.v1.OperatorService: custom search attribute registration, so the
 * engine can register its attributes the same way on this server and on a real one.
 */
import { invalidArgument } from './errors';
import type { Handlers } from './grpc-server';
import type { SearchAttributeRegistry } from './search-attributes';

export function operatorServiceHandlers(registry: SearchAttributeRegistry): Handlers {
  return {
    AddSearchAttributes: async (request) => {
      const wanted = Object.entries(request.searchAttributes ?? {});
      for (const [name] of wanted) {
        if (registry.isSystem(name)) throw invalidArgument(`Search attribute ${name} is reserved by system.`);
      }
      // An attribute that already exists is skipped, as current Temporal servers do.
      for (const [name, type] of wanted) if (!registry.isDefined(name)) registry.add(name, type as number);
      return {};
    },
    ListSearchAttributes: async () => ({
      customAttributes: registry.customAttributes(),
      systemAttributes: registry.system,
      storageSchema: {},
    }),
  };
}
