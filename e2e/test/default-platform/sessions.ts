import { graphqlRequest } from "@boxoffice/service-kit/testing";
import { describe, expect, it } from "vitest";
import { world } from "./platform.ts";

const PASSWORD = "correct horse battery staple";
const email = () => `e2e.${Date.now()}.${Math.random().toString(36).slice(2)}@example.test`;

describe("sessions through the gateway", () => {
  it("sign up sets the cookie; me works with only the cookie, or only a bearer token; sign out ends it", async () => {
    const address = email();
    const signUp = await graphqlRequest(
      world.platform.gatewayUrl,
      `mutation ($e: String!, $p: String!) { signUp(input: { email: $e, password: $p }) { token user { id email } } }`,
      { e: address, p: PASSWORD },
    );
    expect(signUp.body.errors).toBeUndefined();
    const { token, user } = signUp.body.data?.signUp as {
      token: string;
      user: { id: string; email: string };
    };
    const [setCookie] = signUp.res.headers.getSetCookie();
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).toMatch(/Path=\//);
    expect(setCookie).toMatch(/Max-Age=\d+/);
    const cookie = setCookie!.split(";")[0]!;

    const viaCookie = await graphqlRequest(world.platform.gatewayUrl, "{ me { id email } }", {}, { cookie });
    expect(viaCookie.body.data).toEqual({ me: { id: user.id, email: address } });
    const viaBearer = await graphqlRequest(
      world.platform.gatewayUrl,
      "{ me { id } }",
      {},
      { authorization: `Bearer ${token}` },
    );
    expect(viaBearer.body.data).toEqual({ me: { id: user.id } });

    const out = await graphqlRequest(world.platform.gatewayUrl, "mutation { signOut }", {}, { cookie });
    expect(out.body.data).toEqual({ signOut: true });
    expect(out.res.headers.getSetCookie()[0]).toMatch(/Max-Age=0/);
    expect(
      (await graphqlRequest(world.platform.gatewayUrl, "{ me { id } }", {}, { cookie })).body.data,
    ).toEqual({
      me: null,
    });
  });
});
