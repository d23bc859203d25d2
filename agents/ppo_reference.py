"""PPO on SwiftHydra-v0, CleanRL style: one readable file, top to bottom, no RL library.

What it does, in order:

1. builds the batched env ``gym.make_vec("SwiftHydra-v0", num_envs=N, vectorization_mode="vector_entry_point")``
   (N latent walks decoded and scored in one forward pass; same-step autoreset);
2. runs PPO (clipped surrogate, GAE, value clipping, entropy bonus, advantage normalisation) with a
   diagonal Gaussian policy whose actions are clipped to the env's [-1, 1] box;
3. closes the Swift Hydra loop like ``hydra_env.DetectorUpdateWrapper`` does, on the shared batched
   env: every ``update_every`` env steps the ``top_l`` highest-reward samples are kept (as label 1),
   the detector is retrained (warm start) on train + all kept samples, and the entropy anomaly set
   grows by the new samples;
4. logs the episodic return of every finished episode and the detector version.

Run: ``python -m agents.ppo_reference --total-timesteps 4096``. ``--total-timesteps 256`` is a smoke
test (``tests/agents/test_reference.py``).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.distributions.normal import Normal


@dataclass
class Args:
    seed: int = 1
    """seed of the split, the VAE/detector and the agent"""
    dataset: str = "wdbc"
    """embedded name, ADBench name or .npz path"""
    la: float = 0.1
    """ratio of labeled anomalies"""
    total_timesteps: int = 8192
    """total env steps (summed over the vector env)"""
    num_envs: int = 8
    """parallel latent walks"""
    num_steps: int = 64
    """steps per env per rollout"""
    episode_length: int = 16
    """env steps per episode"""
    latent_dim: int = 8
    """VAE latent size (= action size)"""
    vae_epochs: int = 40
    """epochs of the env's VAE"""
    detector_epochs: int = 5
    """epochs of the env's detector (pre-training and each update)"""
    learning_rate: float = 3e-4
    anneal_lr: bool = True
    gamma: float = 0.9
    gae_lambda: float = 0.95
    num_minibatches: int = 4
    update_epochs: int = 4
    clip_coef: float = 0.2
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    top_l: int = 32
    """samples kept per detector update"""
    update_every: int = 2048
    """env steps between detector updates (0: never)"""
    log_every: int = 1
    """print a line every this many PPO iterations"""


def parse_args(argv: list[str] | None = None) -> Args:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for field in dataclasses.fields(Args):
        flag = "--" + field.name.replace("_", "-")
        if field.type in ("bool", bool):
            parser.add_argument(flag, type=lambda s: s.lower() in ("1", "true", "yes"), default=field.default)
        else:
            parser.add_argument(flag, type=type(field.default), default=field.default)
    return Args(**vars(parser.parse_args(argv)))


def layer_init(layer: nn.Linear, std: float = np.sqrt(2), bias_const: float = 0.0) -> nn.Linear:
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    def __init__(self, obs_dim: int, act_dim: int) -> None:
        super().__init__()
        self.critic = nn.Sequential(
            layer_init(nn.Linear(obs_dim, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 1), std=1.0),
        )  # fmt: skip
        self.actor_mean = nn.Sequential(
            layer_init(nn.Linear(obs_dim, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, act_dim), std=0.01),
        )  # fmt: skip
        self.actor_logstd = nn.Parameter(torch.full((1, act_dim), -0.5))

    def get_value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x)

    def get_action_and_value(self, x: torch.Tensor, action: torch.Tensor | None = None):
        mean = self.actor_mean(x)
        probs = Normal(mean, self.actor_logstd.expand_as(mean).exp())
        if action is None:
            action = probs.sample()
        return action, probs.log_prob(action).sum(1), probs.entropy().sum(1), self.critic(x)


def main(argv: list[str] | None = None) -> dict:
    import hydra_env  # noqa: F401  (registers SwiftHydra-v0)
    from hydra_env.rounds import RoundStep
    from hydra_env.wrappers import CANDIDATE_POOL, TopLBuffer

    args = parse_args(argv)
    batch_size = args.num_envs * args.num_steps
    minibatch_size = max(1, batch_size // args.num_minibatches)
    num_iterations = max(1, args.total_timesteps // batch_size)
    rng = np.random.default_rng(args.seed)  # minibatch shuffling
    torch.manual_seed(args.seed)  # the agent's weights and action noise come from torch's global generator

    # ---- env: N walks in one batched env; the VAE and detector are trained on the split when built
    envs = gym.make_vec(
        "SwiftHydra-v0", num_envs=args.num_envs, vectorization_mode="vector_entry_point",
        dataset=args.dataset, la=args.la, seed=args.seed, latent_dim=args.latent_dim,
        episode_length=args.episode_length, vae_epochs=args.vae_epochs, detector_epochs=args.detector_epochs,
    )  # fmt: skip
    base = envs.unwrapped
    obs_dim = envs.single_observation_space.shape[0]
    act_dim = envs.single_action_space.shape[0]
    agent = Agent(obs_dim, act_dim)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)

    # ---- rollout storage
    obs = torch.zeros((args.num_steps, args.num_envs, obs_dim))
    actions = torch.zeros((args.num_steps, args.num_envs, act_dim))
    logprobs = torch.zeros((args.num_steps, args.num_envs))
    rewards = torch.zeros((args.num_steps, args.num_envs))
    dones = torch.zeros((args.num_steps, args.num_envs))
    values = torch.zeros((args.num_steps, args.num_envs))

    # ---- the detector-update half of the loop (same rule as hydra_env.DetectorUpdateWrapper)
    buffer = TopLBuffer(CANDIDATE_POOL * args.top_l)
    round_step = RoundStep(
        base.detector, base.split.X_train, base.split.y_train, top_l=args.top_l, core=base.core
    )  # the same select -> augment -> refit step as the closed loop
    steps_since_update = 0

    global_step, start = 0, time.time()
    episode_return = np.zeros(args.num_envs)
    episodic_returns: list[float] = []
    next_obs = torch.as_tensor(envs.reset(seed=args.seed)[0], dtype=torch.float32)
    next_done = torch.zeros(args.num_envs)

    for iteration in range(1, num_iterations + 1):
        if args.anneal_lr:
            optimizer.param_groups[0]["lr"] = (1.0 - (iteration - 1.0) / num_iterations) * args.learning_rate

        for step in range(args.num_steps):
            global_step += args.num_envs
            obs[step], dones[step] = next_obs, next_done
            with torch.no_grad():
                action, logprob, _, value = agent.get_action_and_value(next_obs)
            values[step], actions[step], logprobs[step] = value.flatten(), action, logprob

            o, raw_reward, terminated, truncated, infos = envs.step(action.clamp(-1.0, 1.0).numpy())
            done = np.logical_or(terminated, truncated)
            r = torch.as_tensor(raw_reward, dtype=torch.float32)
            # Truncation is not failure: bootstrap from the finished episode's last observation.
            for i in np.flatnonzero(truncated & ~terminated):
                with torch.no_grad():
                    final = torch.as_tensor(infos["final_obs"][i], dtype=torch.float32)
                    r[i] += args.gamma * agent.get_value(final[None]).item()
            rewards[step] = r
            next_obs = torch.as_tensor(o, dtype=torch.float32)
            next_done = torch.as_tensor(done, dtype=torch.float32)

            episode_return += raw_reward
            for i in np.flatnonzero(done):
                episodic_returns.append(float(episode_return[i]))
                episode_return[i] = 0.0

            buffer.add(infos["sample"], raw_reward)
            steps_since_update += args.num_envs
            if args.update_every and steps_since_update >= args.update_every:
                steps_since_update = 0
                round_step(*buffer.pop())

        # ---- GAE (dones[t] marks that obs[t] starts a new episode)
        with torch.no_grad():
            next_value = agent.get_value(next_obs).reshape(1, -1)
            advantages = torch.zeros_like(rewards)
            lastgaelam = 0
            for t in reversed(range(args.num_steps)):
                if t == args.num_steps - 1:
                    nextnonterminal, nextvalues = 1.0 - next_done, next_value
                else:
                    nextnonterminal, nextvalues = 1.0 - dones[t + 1], values[t + 1]
                delta = rewards[t] + args.gamma * nextvalues * nextnonterminal - values[t]
                advantages[t] = lastgaelam = (
                    delta + args.gamma * args.gae_lambda * nextnonterminal * lastgaelam
                )
            returns = advantages + values

        b_obs, b_actions = obs.reshape((-1, obs_dim)), actions.reshape((-1, act_dim))
        b_logprobs, b_advantages = logprobs.reshape(-1), advantages.reshape(-1)
        b_returns, b_values = returns.reshape(-1), values.reshape(-1)

        # ---- PPO update
        b_inds = np.arange(batch_size)
        clipfracs = []
        for _ in range(args.update_epochs):
            rng.shuffle(b_inds)
            for start_idx in range(0, batch_size, minibatch_size):
                mb = b_inds[start_idx : start_idx + minibatch_size]
                _, newlogprob, entropy, newvalue = agent.get_action_and_value(b_obs[mb], b_actions[mb])
                logratio = newlogprob - b_logprobs[mb]
                ratio = logratio.exp()
                with torch.no_grad():
                    approx_kl = ((ratio - 1) - logratio).mean()
                    clipfracs.append(((ratio - 1.0).abs() > args.clip_coef).float().mean().item())
                mb_adv = b_advantages[mb]
                mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std(unbiased=False) + 1e-8)
                pg_loss = torch.max(
                    -mb_adv * ratio, -mb_adv * torch.clamp(ratio, 1 - args.clip_coef, 1 + args.clip_coef)
                ).mean()
                newvalue = newvalue.view(-1)
                v_clipped = b_values[mb] + torch.clamp(
                    newvalue - b_values[mb], -args.clip_coef, args.clip_coef
                )
                v_loss = (
                    0.5 * torch.max((newvalue - b_returns[mb]) ** 2, (v_clipped - b_returns[mb]) ** 2).mean()
                )
                loss = pg_loss - args.ent_coef * entropy.mean() + args.vf_coef * v_loss
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()

        if iteration % args.log_every == 0 or iteration == num_iterations:
            recent = episodic_returns[-args.num_envs :] or [float("nan")]
            print(
                f"iter={iteration}/{num_iterations} global_step={global_step} "
                f"episodic_return={np.mean(recent):.3f} detector_v{base.detector_version} "
                f"kept={len(round_step.kept_X)} pg_loss={pg_loss.item():.3f} v_loss={v_loss.item():.3f} "
                f"approx_kl={approx_kl.item():.4f} clipfrac={np.mean(clipfracs):.3f} "
                f"sps={int(global_step / (time.time() - start))}"
            )

    envs.close()
    return {
        "global_step": global_step,
        "episodic_returns": episodic_returns,
        "detector_version": int(base.detector_version),
        "n_kept": int(len(round_step.kept_X)),
    }


if __name__ == "__main__":
    main()
